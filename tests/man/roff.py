"""Just enough roff (man(7) macros) to read banger-signal(8) as text, for check_man.py.

parse_page() gives the sections by name, each a list of blocks (a .TP entry with its
tag, or a paragraph) of de-roffed lines. An escape this reader does not know raises
ValueError: better to fail than to compare garbage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

SPECIAL_CHARS = {'em': '\u2014', 'en': '\u2013', 'lq': '\u201c', 'rq': '\u201d', 'dq': '"',
                 'aq': "'", 'bu': '\u2022'}
SIMPLE_ESCAPES = {'-': '-', 'e': '\\', '\\': '\\', ' ': ' ', '&': '', '|': '', ':': '', '%': ''}
ESCAPE = re.compile(r'\\(?:f(?:\[[^]]*\]|\(..|.)|\((..)|\[([^]]*)\]|(.))')
FONT_MACROS = {'B', 'I', 'SM', 'SB'}
ALTERNATING_MACROS = {'BR', 'RB', 'IR', 'RI', 'BI', 'IB'}


def unescape(text: str) -> str:
    """Roff escapes to plain text, in one left-to-right pass."""
    def one(m: re.Match[str]) -> str:
        special = m.group(1) or m.group(2)
        if special is not None:
            if special in SPECIAL_CHARS:
                return SPECIAL_CHARS[special]
        elif m.group(3) is None:
            return ''  # a font change
        elif m.group(3) in SIMPLE_ESCAPES:
            return SIMPLE_ESCAPES[m.group(3)]
        # An escape this checker does not know: better to fail than to compare garbage.
        raise ValueError(f'unknown roff escape {m.group(0)!r} in {text!r}')
    return ESCAPE.sub(one, text)


def macro_args(rest: str) -> list[str]:
    """Arguments of a macro line, with roff's double-quote rules."""
    args: list[str] = []
    i = 0
    while i < len(rest):
        if rest[i] == ' ':
            i += 1
            continue
        if rest[i] == '"':
            i += 1
            arg = ''
            while i < len(rest):
                if rest.startswith('""', i):
                    arg += '"'
                    i += 2
                elif rest[i] == '"':
                    i += 1
                    break
                else:
                    arg += rest[i]
                    i += 1
            args.append(arg)
        else:
            j = i
            while j < len(rest) and not (rest[j] == ' ' and rest[j - 1] != '\\'):
                j += 1
            args.append(rest[i:j])
            i = j
    return args


@dataclass
class Block:
    """A .TP entry (tag + body) or a plain paragraph (tag None)."""
    tag: str | None
    body: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return ' '.join(' '.join(self.body).split())


@dataclass
class Section:
    name: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def text(self) -> str:
        return ' '.join(b.text for b in self.blocks)

    def entries(self) -> list[Block]:
        return [b for b in self.blocks if b.tag is not None]


BREAKING = {'PP', 'P', 'LP', 'IP', 'TP', 'SS', 'SH', 'RS', 'RE', 'EX', 'EE', 'HP'}


def parse_page(source: str) -> dict[str, Section]:
    """Sections by name (.SH), each a list of blocks of de-roffed text lines."""
    sections: dict[str, Section] = {}
    section: Section | None = None
    block: Block | None = None
    want_tag = False
    lines = source.split('\n')
    # Join escaped newlines first.
    joined: list[str] = []
    for line in lines:
        if joined and joined[-1].endswith('\\') and not joined[-1].endswith('\\\\'):
            joined[-1] = joined[-1][:-1] + line
        else:
            joined.append(line)
    for line in joined:
        if line.startswith('.\\"') or line.startswith("'\\\"") or line in ('.', ''):
            continue
        text: str | None
        if line.startswith('.'):
            name, _, rest = line[1:].strip().partition(' ')
            if name == 'SH':
                title = unescape(' '.join(macro_args(rest)))
                section = sections.setdefault(title, Section(title))
                block = None
                continue
            if name in BREAKING:
                if section is not None:
                    block = Block(None)
                    section.blocks.append(block)
                    want_tag = name == 'TP'
                continue
            if name in FONT_MACROS:
                text = unescape(' '.join(macro_args(rest)))
            elif name in ALTERNATING_MACROS:
                text = unescape(''.join(macro_args(rest)))
            else:
                continue  # .br .ad .na .nh .nr .TH ...: no text
        else:
            text = unescape(line)
        if section is None:
            continue
        if block is None:
            block = Block(None)
            section.blocks.append(block)
        if want_tag:
            block.tag = ' '.join(text.split())
            want_tag = False
        else:
            block.body.append(text)
    return sections
