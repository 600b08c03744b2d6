"""How sources are read: the privacy and chat-reading choices a parse is made with."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass

_DIGEST = "sha256:"


def sender_key(name: str) -> str:
    """How a member is matched against `exclude_senders` (case and outer spaces ignored)."""
    return name.strip().casefold()


def sender_digest(name: str) -> str:
    """An excluded member as an index may record it: a digest, never the name."""
    return _DIGEST + hashlib.sha256(sender_key(name).encode("utf-8")).hexdigest()


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

    def excludes(self, sender: str) -> bool:
        """Whether `sender` is excluded, named or given by digest (as an index records it)."""
        keys = {
            name if name.startswith(_DIGEST) else sender_key(name) for name in self.exclude_senders
        }
        return sender_key(sender) in keys or sender_digest(sender) in keys

    def recorded(self) -> dict:
        """These options as an index manifest keeps them: excluded members as digests."""
        data = asdict(self)
        data["exclude_senders"] = [
            name if name.startswith(_DIGEST) else sender_digest(name)
            for name in self.exclude_senders
        ]
        return data
