"""Who a document may name: sharing terms turned into the names a dossier or letter shows (pure, no Django).

Restricted parties become "Manufacturer A" and so on; Disclosure.scrub() removes their names from free text.
See docs/modules.md#evidenceexportdisclosurepy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

ROLES = ("manufacturer", "distributor", "entity")

ROLE_NAMES: dict[str, dict[str, str]] = {
    "en": {"manufacturer": "Manufacturer", "distributor": "Distributor", "entity": "Entity"},
    "uk": {"manufacturer": "Виробник", "distributor": "Дистриб'ютор", "entity": "Суб'єкт"},  # noqa: RUF001
}

LETTERS: dict[str, str] = {
    "en": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    # The Ukrainian alphabet without Ґ and the soft sign, as Ukrainian lists are lettered.
    "uk": "АБВГДЕЄЖЗИІЇЙКЛМНОПРСТУФХЦЧШЩЮЯ",
}


@dataclass(frozen=True)
class Party:
    """A manufacturer or entity a document mentions, with its sharing terms."""

    role: str  # "manufacturer", "distributor" or "entity" (how it is called when it may not be named)
    key: int  # its primary key: the lettering order
    name: str
    legal_name: str = ""
    aliases: Sequence[str] = ()
    may_be_named: bool = True
    named_from: date | None = None

    @property
    def names(self) -> list[str]:
        """Every name it goes by, longest first."""
        found = {name.strip() for name in (self.name, self.legal_name, *self.aliases) if name and name.strip()}
        return sorted(found, key=lambda name: (-len(name), name))


def may_name(party: Party, on: date) -> bool:
    """Whether a document dated `on` may name the party."""
    if not party.may_be_named:
        return False
    return party.named_from is None or party.named_from <= on


def letter(index: int, language: str) -> str:
    """A, B … Z, then A2, B2 … (in Ukrainian, its alphabet's letters)."""
    alphabet = LETTERS.get(language, LETTERS["en"])
    round_, position = divmod(index, len(alphabet))
    return alphabet[position] + (str(round_ + 1) if round_ else "")


@dataclass
class Disclosure:
    """The names a document shows: shown(role, key) and scrub(text)."""

    language: str = "en"
    shown_names: dict[tuple[str, int], str] = field(default_factory=dict)
    real_names: dict[tuple[str, int], str] = field(default_factory=dict)
    hidden: dict[str, str] = field(default_factory=dict)  # casefolded real name, legal name or alias -> shown
    _pattern: re.Pattern | None = None

    def shown(self, role: str, key: int | None, default: str = "") -> str:
        """The name shown for the party (its real name when it may be named)."""
        if key is None:
            return default
        return self.shown_names.get((role, key), self.scrub(default))

    def mapping(self) -> dict[str, str]:
        """Real name -> shown name, for every party."""
        return {self.real_names[key]: shown for key, shown in self.shown_names.items()}

    def is_hidden(self, role: str, key: int | None) -> bool:
        return key is not None and self.shown_names.get((role, key)) != self.real_names.get((role, key))

    def scrub(self, text: str) -> str:
        """The text with every name of a party that may not be named replaced by its letter."""
        if not text or not self.hidden or not isinstance(text, str):
            return text
        if self._pattern is None:
            names = sorted(self.hidden, key=lambda name: (-len(name), name))
            alternatives = "|".join(re.escape(name) for name in names)
            self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
        return self._pattern.sub(lambda match: self.hidden.get(match.group(0).casefold(), match.group(0)), text)


def disclose(parties: Iterable[Party], *, on: date, language: str = "en") -> Disclosure:
    """The disclosure of a document dated `on`: lettered per role by key; the same party once only."""
    unique: dict[tuple[str, int], Party] = {}
    for party in parties:
        unique.setdefault((party.role, party.key), party)
    disclosure = Disclosure(language=language)
    counters = dict.fromkeys(ROLES, 0)
    role_names = ROLE_NAMES.get(language, ROLE_NAMES["en"])
    ordered = sorted(unique.values(), key=lambda party: (ROLES.index(party.role), party.key))
    for party in ordered:
        key = (party.role, party.key)
        disclosure.real_names[key] = party.name
        if may_name(party, on):
            disclosure.shown_names[key] = party.name
            continue
        shown = f"{role_names[party.role]} {letter(counters[party.role], language)}"
        counters[party.role] += 1
        disclosure.shown_names[key] = shown
        for name in party.names:
            disclosure.hidden.setdefault(name.casefold(), shown)
    return disclosure


def mapping(parties: Iterable[Party], *, on: date, language: str = "en") -> dict[str, str]:
    """Real name -> shown name (the stable mapping of a document dated `on`)."""
    return disclose(parties, on=on, language=language).mapping()
