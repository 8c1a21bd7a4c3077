"""The staged install: the build installed into a stage directory, plus the system
files the sandbox needs (test users, the privileged group, banger's install record).

Nothing here touches the host: the stage is on the workspace tmpfs, and mounts.py
later lays it over the host's directories inside the private namespace only.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .base import SandboxError

MEMBER, OTHER = 'bsmember', 'bsother'


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildOptions:
    privileged_group: str
    config_path: str
    installed_binary: str
    helper_user: str
    socket_path: str


def meson_introspect(builddir: str, what: str):
    out = subprocess.run(['meson', 'introspect', f'--{what}', builddir],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def read_build_options(builddir: str) -> BuildOptions:
    if not os.path.isfile(os.path.join(builddir, 'meson-private', 'coredata.dat')):
        raise SandboxError(f'{builddir} is not a configured meson build directory')
    opts = {o['name']: o['value'] for o in meson_introspect(builddir, 'buildoptions')}
    return BuildOptions(privileged_group=str(opts.get('privileged_group', 'banger')),
                        config_path=str(opts.get('config_path', '/etc/banger/install.toml')),
                        installed_binary=os.path.join(opts['prefix'], opts['bindir'],
                                                      'banger-signal'),
                        helper_user=str(opts.get('helper_user', 'banger-signal')),
                        socket_path=str(opts.get('socket_path', '/run/banger-signal/io.banger.Signal')))


def install(builddir: str, stage: str, installed_binary: str, rebuild: bool) -> None:
    cmd = ['meson', 'install', '-C', builddir, '--destdir', stage, '--quiet']
    if not rebuild:
        cmd.append('--no-rebuild')
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SandboxError(f'meson install failed ({r.returncode}):\n{r.stdout}{r.stderr}')
    if not os.path.isfile(stage + installed_binary):
        raise SandboxError(f'meson install did not produce {installed_binary}')


def _stage_file(stage: str, path: str, content: str, mode: int, uid: int = 0,
                gid: int = 0) -> None:
    dest = stage + path
    os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
    with open(dest, 'w', encoding='utf-8') as f:
        f.write(content)
    os.chown(dest, uid, gid)
    os.chmod(dest, mode)


def stage_system_files(stage: str, opts: BuildOptions, runtime_dir: str,
                       service_cgroup: str) -> tuple[User, User]:
    """Test users, the privileged group and banger's install record, staged over /etc.

    Returns (member of the privileged group, user outside it).
    """
    passwd = Path('/etc/passwd').read_text(encoding='utf-8')
    group = Path('/etc/group').read_text(encoding='utf-8')
    shadow = Path('/etc/shadow').read_text(encoding='utf-8')
    used_uids = {int(ln.split(':')[2]) for ln in passwd.splitlines() if ln.count(':') >= 6}
    used_gids = {int(ln.split(':')[2]) for ln in group.splitlines() if ln.count(':') >= 3}
    names = {ln.split(':')[0] for ln in passwd.splitlines()}
    for name in (MEMBER, OTHER):
        if name in names:
            raise SandboxError(f'user {name} already exists on this machine')

    def free_id(start: int) -> int:
        i = start
        while i in used_uids or i in used_gids:
            i += 1
        used_uids.add(i)
        used_gids.add(i)
        return i

    group_lines = group.rstrip('\n').split('\n')
    priv = opts.privileged_group
    for i, ln in enumerate(group_lines):
        fields = ln.split(':')
        if fields[0] == priv and len(fields) == 4:
            members = [m for m in fields[3].split(',') if m] + [MEMBER]
            group_lines[i] = ':'.join(fields[:3] + [','.join(members)])
            break
    else:
        group_lines.append(f'{priv}:x:{free_id(64000)}:{MEMBER}')
    users = []
    for name in (MEMBER, OTHER):
        uid = free_id(64010)
        users.append(User(name, uid, uid, (priv,) if name == MEMBER else ()))
        group_lines.append(f'{name}:x:{uid}:')
    # Real homes (a private /home): `pkexec --user U` changes to U's home and fails without.
    for u in users:
        home = f'{stage}/home/{u.name}'
        os.makedirs(home)
        os.chown(home, u.uid, u.gid)
        os.chmod(home, 0o700)
    passwd += ''.join(f'{u.name}:x:{u.uid}:{u.gid}:banger e2e test user:/home/{u.name}:'
                      f'/usr/sbin/nologin\n' for u in users)
    # The system user banger-signal works as, as its sysusers.d entry makes it.
    if opts.helper_user not in names:
        helper = free_id(64020)
        passwd += f'{opts.helper_user}:x:{helper}:{helper}:banger-signal while it works:/:/usr/sbin/nologin\n'
        group_lines.append(f'{opts.helper_user}:x:{helper}:')
    shadow += ''.join(f'{u.name}:!*:19000:0:99999:7:::\n' for u in users)
    shadow_st = os.stat('/etc/shadow')
    _stage_file(stage, '/etc/passwd', passwd, 0o644)
    _stage_file(stage, '/etc/group', '\n'.join(group_lines) + '\n', 0o644)
    _stage_file(stage, '/etc/shadow', shadow, stat.S_IMODE(shadow_st.st_mode),
                shadow_st.st_uid, shadow_st.st_gid)
    _stage_file(stage, opts.config_path,
                f'# written by the banger-signal e2e sandbox\n'
                f'runtime_dir = "{runtime_dir}"\n'
                f'service_cgroup = "{service_cgroup}"\n', 0o644)
    # Directories the tests write into at run time: private copies too.
    os.makedirs(stage + '/etc/polkit-1/rules.d', exist_ok=True)
    return users[0], users[1]
