#!/usr/bin/env python3
"""The man page must match the binary, and render without a single warning.

  check_man.py --check drift  --binary BANGER_SIGNAL --page BUILDDIR/man/banger-signal.8
  check_man.py --check render --page BUILDDIR/man/banger-signal.8 [--groff GROFF] [--man MAN]

drift:  every exit code of `banger-signal --help` has an entry in EXIT STATUS whose text
        starts with the same meaning (followed by nothing or by " \\(em ..."), and the
        page lists no code the binary lacks; the note lines under the table appear in
        EXIT STATUS too. The OPTIONS tags name exactly the options of --help, with the
        same value names; the page mentions no other long option of banger-signal
        anywhere (so --wait etc. cannot be documented before the binary has them); the
        --signal entry names every allowed signal and the default; FILES names the
        install record that --help names (the page is generated per build). Then the checker
        mutates copies of the page and makes sure it notices each drift.
render: `groff -man -ww -z PAGE` (and the same for a terminal) prints nothing and
        succeeds; the terminal rendering fits 80 columns; if man(1) is given, `man -l`
        with MANWIDTH=80 is silent on stderr. Without groff: exit 77 (skipped).

--help is parsed by banger_test.help (tests/lib). Only the Python standard library is used.
Exit 0 = pass, 1 = fail, 77 = skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys

from banger_test.codes import SKIP
from banger_test.help import LONG_OPT, SHORT_OPT, HelpFacts, parse_help, read_help
from roff import parse_page, unescape

# Long options that the page may mention although banger-signal does not have them:
# they belong to other programs (Firecracker's api socket flag; pkexec's options;
# systemctl enable --now).
FOREIGN_LONG_OPTIONS = {'--api-sock', '--user', '--disable-internal-agent', '--now'}


# ---------------------------------------------------------------- drift

def drift_problems(page_source: str, facts: HelpFacts) -> list[str]:
    problems: list[str] = []
    try:
        sections = parse_page(page_source)
    except ValueError as e:
        return [str(e)]
    for required in ('NAME', 'SYNOPSIS', 'DESCRIPTION', 'OPTIONS', 'EXIT STATUS', 'FILES'):
        if required not in sections:
            problems.append(f'the page has no {required} section')
    if problems:
        return problems

    # Exit codes, both ways.
    exit_sec = sections['EXIT STATUS']
    page_codes: dict[int, str] = {}
    for entry in exit_sec.entries():
        if entry.tag is not None and re.fullmatch(r'\d+', entry.tag):
            code = int(entry.tag)
            if code in page_codes:
                problems.append(f'EXIT STATUS documents code {code} twice')
            page_codes[code] = entry.text
    for code, meaning in facts.codes.items():
        if code not in page_codes:
            problems.append(f'exit code {code} ("{meaning}") is missing from EXIT STATUS')
            continue
        body = page_codes[code]
        if body != meaning and not body.startswith(meaning + ' \u2014 '):
            problems.append(f'exit code {code}: --help says "{meaning}", the page says "{body}" '
                            '(the page must repeat the meaning verbatim, optionally followed '
                            'by " \\(em " and more)')
    for code in page_codes:
        if code not in facts.codes:
            problems.append(f'EXIT STATUS documents code {code}, which --help does not list')
    for note in facts.notes:
        if note not in exit_sec.text:
            problems.append(f'EXIT STATUS lacks the --help note "{note}"')

    # Options, both ways, with their value names.
    page_options: dict[str, str] = {}
    for entry in sections['OPTIONS'].entries():
        tag = entry.tag or ''
        for name in LONG_OPT.findall(tag) + SHORT_OPT.findall(tag):
            page_options[name] = tag
    for name, metavar in facts.options.items():
        if name not in page_options:
            problems.append(f'option {name} (in --help) has no entry in OPTIONS')
        elif metavar and metavar not in page_options[name].split():
            problems.append(f'option {name}: --help calls its value {metavar}, '
                            f'the OPTIONS tag is "{page_options[name]}"')
    for name in page_options:
        if name not in facts.options:
            problems.append(f'OPTIONS documents {name}, which --help does not list')

    # No long option of ours anywhere in the page that the binary lacks.
    everywhere = ' '.join(s.text + ' ' + ' '.join(b.tag or '' for b in s.blocks)
                          for s in sections.values())
    for name in sorted(set(LONG_OPT.findall(everywhere))):
        base = name.split('=')[0]
        if base not in facts.options and base not in FOREIGN_LONG_OPTIONS:
            problems.append(f'the page mentions {name}, which --help does not list')

    # The page is generated per build (man/meson.build): it must name the install record
    # this binary reads, as a FILES entry.
    files_tags = [unescape(b.tag) for b in sections['FILES'].entries() if b.tag]
    if facts.config_path not in files_tags:
        problems.append(f'FILES has no entry for {facts.config_path}, the install record '
                        f'--help names (is the page generated from banger-signal.8.in?)')

    # Signal names.
    signal_entry = next((e for e in sections['OPTIONS'].entries()
                         if '--signal' in LONG_OPT.findall(e.tag or '')), None)
    if signal_entry is not None:
        words = set(re.findall(r'[A-Za-z0-9+]+', signal_entry.text))
        for sig in facts.signals:
            if sig not in words:
                problems.append(f'the --signal entry does not name the allowed signal {sig}')
        if not re.search(rf'default\b[^.]*\b{facts.default_signal}\b', signal_entry.text):
            problems.append(f'the --signal entry does not give the default {facts.default_signal}')
    return problems


def mutations(source: str, facts: HelpFacts) -> list[tuple[str, str]]:
    """Copies of the page that drifted; the checker must reject every one."""
    out: list[tuple[str, str]] = []

    def replace_once(what: str, old: str, new: str) -> None:
        if old not in source:
            raise SystemExit(f'FAIL: self-test cannot build mutation "{what}": {old!r} not in page')
        out.append((what, source.replace(old, new, 1)))

    code, meaning = max(facts.codes.items())
    first_word = meaning.split()[0]
    replace_once(f'exit code {code} meaning changed', f'.B {code}\n{first_word}',
                 f'.B {code}\nformerly {first_word}')
    replace_once(f'exit code {code} entry dropped', f'.TP\n.B {code}\n', '.TP\n.B 99\n')
    replace_once('extra exit code', '.SH EXIT STATUS\n', '.SH EXIT STATUS\n.TP\n.B 1\nfailure\n')
    replace_once('option entry dropped', '.TP\n.B \\-\\-verbose\n', '.TP\n.B \\-\\-verbose\\-x\n')
    bogus = next(n for n in ('--frobnicate', '--frobnicate-more') if n not in facts.options)
    replace_once('option the binary lacks', '.SH EXIT STATUS\n',
                 f'.TP\n.BI {bogus.replace("-", chr(92) + "-")} " SECONDS"\nwait.\n.SH EXIT STATUS\n')
    replace_once('option the binary lacks, in prose', '.SH FILES\n',
                 f'.SH FILES\nSee {bogus.replace("-", chr(92) + "-")}.\n')
    replace_once('value name changed', '.BI \\-\\-pid " PID"\n', '.BI \\-\\-pid " N"\n')
    replace_once('a signal dropped', '.BR USR2\nand', '.BR USR3\nand')
    replace_once('note dropped', 'With several pids:', 'With many pids:')
    config_roff = facts.config_path.replace('-', '\\-')
    replace_once('another install record in FILES', f'.TP\n.I {config_roff}\n',
                 '.TP\n.I /etc/elsewhere.toml\n')
    return out


def check_drift(binary: str, page: str) -> int:
    facts = parse_help(read_help(binary))
    if len(facts.codes) < 2 or 0 not in facts.codes or len(facts.options) < 2:
        print(f'FAIL: --help parsed to too little (codes {facts.codes}, options {facts.options}); '
              'has its format changed?')
        return 1
    with open(page, encoding='utf-8') as f:
        source = f.read()

    problems = drift_problems(source, facts)
    if problems:
        print(f'FAIL: {page} has drifted from `{os.path.basename(binary)} --help`:')
        for p in problems:
            print(f'  - {p}')
        return 1
    print(f'ok: {len(facts.codes)} exit codes, {len(facts.options)} options '
          f'({", ".join(sorted(facts.options))}) and {len(facts.signals)} signals match')

    blind = [what for what, text in mutations(source, facts) if not drift_problems(text, facts)]
    if blind:
        print('FAIL: the checker did not notice these drifts (self-test): ' + '; '.join(blind))
        return 1
    print('ok: self-test, every mutated copy of the page was rejected')
    return 0


# ---------------------------------------------------------------- render

ANSI = re.compile(r'\x1b\[[0-9;]*m')
OVERSTRIKE = re.compile(r'.\x08')


def check_render(page: str, groff: str | None, man: str | None) -> int:
    if not groff:
        print('SKIP: groff not found (install groff-base); the page was not rendered')
        return SKIP
    env = dict(os.environ, LC_ALL='C.UTF-8')
    failures: list[str] = []
    runs = [
        ('groff -man -ww -z', [groff, '-man', '-ww', '-z', page]),
        ('groff -man -ww -z -Tutf8', [groff, '-man', '-ww', '-z', '-Tutf8', page]),
    ]
    for label, cmd in runs:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)
        if r.returncode != 0 or r.stdout or r.stderr:
            failures.append(f'{label} (exit {r.returncode}):\n{r.stdout}{r.stderr}')

    # Width: what a terminal of 80 columns shows (man-db uses LL = MANWIDTH - 2).
    r = subprocess.run([groff, '-man', '-ww', '-Tutf8', '-rLL=78n', page],
                       capture_output=True, env=env, timeout=60)
    rendered = OVERSTRIKE.sub('', ANSI.sub('', r.stdout.decode('utf-8', 'replace')))
    if r.returncode != 0 or r.stderr:
        failures.append(f'groff -Tutf8 -rLL=78n (exit {r.returncode}):\n'
                        + r.stderr.decode('utf-8', 'replace'))
    wide = [ln for ln in rendered.split('\n') if len(ln) > 80]
    if wide:
        failures.append('lines wider than 80 columns:\n' + '\n'.join(wide))
    if len(rendered.split('\n')) < 50:
        failures.append('the rendered page is implausibly short')

    if man:
        menv = dict(env, MANWIDTH='80', MANROFFOPT='-ww', MAN_DISABLE_SECCOMP='1', PAGER='cat',
                    MANPAGER='cat')
        r = subprocess.run([man, '-l', page], capture_output=True, env=menv, timeout=60)
        if r.returncode != 0 or r.stderr:
            failures.append(f'man -l (exit {r.returncode}):\n' + r.stderr.decode('utf-8', 'replace'))

    if failures:
        print(f'FAIL: {page} does not render cleanly:')
        for f in failures:
            print('  - ' + f.rstrip().replace('\n', '\n    '))
        return 1
    print(f'ok: {page} renders without warnings' + (' (groff and man -l)' if man else ' (groff)'))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--check', choices=['drift', 'render'], required=True)
    ap.add_argument('--page', required=True)
    ap.add_argument('--binary')
    ap.add_argument('--groff', default='')
    ap.add_argument('--man', default='')
    args = ap.parse_args()
    if args.check == 'drift':
        if not args.binary:
            ap.error('--check drift needs --binary')
        return check_drift(args.binary, args.page)
    return check_render(args.page, args.groff or None, args.man or None)


if __name__ == '__main__':
    sys.exit(main())
