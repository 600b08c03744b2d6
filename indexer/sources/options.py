"""How sources are read: the privacy and chat-reading choices a parse is made with."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReadOptions:
    """Choices that change what a parse keeps; part of what an index was built from."""

    # E-mail addresses and phone numbers in chat notes and context are masked unless kept.
    keep_contacts: bool = False
    # Members whose messages are dropped before anything is read from them.
    exclude_senders: tuple[str, ...] = ()
    # Member names replaced by stable pseudonyms (the same name gives the same one).
    pseudonymize: bool = False
    # The conversation this many minutes before a shared link becomes its context.
    context_minutes: float = 10.0
    # At most this many earlier messages make the context.
    context_messages: int = 5
    # The sender's link-less messages this many minutes after a link join its note.
    follow_up_minutes: float = 3.0
