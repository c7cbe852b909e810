#!/usr/bin/env python3
"""Reference oracle for configuration handling.

Usage: python dump_config.py [supervisord options...]

Runs the option/config processing of the installed Python Supervisor
(expected: 4.3.0) exactly the way `supervisord` starts up, without starting
anything, and prints what it derived as one JSON document on stdout.

* Usage/config errors are reported by Supervisor itself
  (`Error: <msg>` + `For help, use supervisord -h` on stderr, exit 2).
* The rpcinterface factories are checked the way supervisord instantiates
  them when it opens its HTTP servers (only done when at least one server is
  configured, like supervisord): keyword arguments that the factory does not
  accept are reported as a usage error (exit 2).
* On success the JSON document is printed and the exit status is 0.

The JSON shape is shared with `supervisord --dump-config` of the Rust
implementation; see tests/compat_config_oracle.rs.

Nothing is written to disk by this script.
"""

import sys

sys.dont_write_bytecode = True

import inspect  # noqa: E402
import json  # noqa: E402
import socket  # noqa: E402


def _callable_spec(obj):
    module = getattr(obj, '__module__', None) or '?'
    name = getattr(obj, '__qualname__', None) or getattr(obj, '__name__', None)
    if name is None:
        name = repr(obj)
    return '%s:%s' % (module, name)


def main(argv):
    from supervisor import supervisord as supervisord_module
    from supervisor.datatypes import (
        Automatic,
        RestartUnconditionally,
        RestartWhenExitUnexpected,
    )
    from supervisor.events import getEventNameByType
    from supervisor.loggers import LevelsByDescription
    from supervisor.options import (
        EventListenerPoolConfig,
        FastCGIGroupConfig,
        ServerOptions,
    )

    options = ServerOptions()
    # Same call as supervisor.supervisord.main(); exits 2 itself on errors.
    options.realize(args=argv, doc=supervisord_module.__doc__,
                    progname='supervisord')

    # supervisord instantiates every rpcinterface factory as
    # factory(supervisord, **extras) while building each HTTP server and
    # turns any failure into a usage error.  Without servers this never runs.
    if options.server_configs:
        for name, factory, extras in options.rpcinterface_factories:
            try:
                signature = inspect.signature(factory)
            except (TypeError, ValueError):
                continue
            try:
                signature.bind(None, **extras)
            except TypeError as exc:
                options.usage('Could not make %s rpc interface (%s)'
                              % (name, exc))

    level_names = {}
    for desc in ('critical', 'error', 'warn', 'info', 'debug', 'trace',
                 'blather'):
        level_names[getattr(LevelsByDescription, desc)] = desc

    def level_name(level):
        if isinstance(level, str):
            return level.lower()
        return level_names[level]

    def logfile_value(value):
        if value is Automatic:
            return 'AUTO'
        if value is None:
            return None
        if isinstance(value, str):
            return value
        raise TypeError('unexpected logfile value %r' % (value,))

    def autorestart_value(value):
        if value is RestartUnconditionally:
            return True
        if value is RestartWhenExitUnexpected:
            return 'unexpected'
        if value is False:
            return False
        raise TypeError('unexpected autorestart value %r' % (value,))

    def opt_int(value):
        return None if value is None else int(value)

    def opt_pair(value):
        return None if value is None else [int(value[0]), int(value[1])]

    section = options.configroot.supervisord
    supervisord = {
        'logfile': options.logfile,
        'logfile_maxbytes': int(options.logfile_maxbytes),
        'logfile_backups': int(options.logfile_backups),
        'loglevel': level_name(options.loglevel),
        'pidfile': options.pidfile,
        'umask': int(options.umask),
        'nodaemon': bool(options.nodaemon),
        'silent': bool(options.silent),
        'minfds': int(options.minfds),
        'minprocs': int(options.minprocs),
        'nocleanup': bool(options.nocleanup),
        'childlogdir': options.childlogdir,
        'user': options.user,
        'uid': opt_int(options.uid),
        'directory': options.directory,
        'strip_ansi': bool(options.strip_ansi),
        'identifier': options.identifier,
        'environment': dict(section.environment),
    }

    servers = []
    for config in options.server_configs:
        entry = {
            'section': config['section'],
            'name': config['name'],
        }
        if config['family'] == socket.AF_INET:
            entry['family'] = 'inet'
            entry['host'] = config['host']
            entry['port'] = int(config['port'])
        elif config['family'] == socket.AF_UNIX:
            entry['family'] = 'unix'
            entry['file'] = config['file']
            entry['chmod'] = int(config['chmod'])
            entry['chown'] = opt_pair(config['chown'])
        else:
            raise TypeError('unexpected server family %r' % (config['family'],))
        entry['username'] = config['username']
        entry['password'] = config['password']
        servers.append(entry)

    rpcinterfaces = []
    for name, factory, extras in options.rpcinterface_factories:
        rpcinterfaces.append({
            'name': name,
            'factory': _callable_spec(factory),
            'kwargs': dict(extras),
        })

    def process_entry(pconfig):
        return {
            'name': pconfig.name,
            'command': pconfig.command,
            'directory': pconfig.directory,
            'umask': opt_int(pconfig.umask),
            'priority': int(pconfig.priority),
            'autostart': bool(pconfig.autostart),
            'autorestart': autorestart_value(pconfig.autorestart),
            'startsecs': int(pconfig.startsecs),
            'startretries': int(pconfig.startretries),
            'uid': opt_int(pconfig.uid),
            'stdout_logfile': logfile_value(pconfig.stdout_logfile),
            'stdout_capture_maxbytes': int(pconfig.stdout_capture_maxbytes),
            'stdout_events_enabled': bool(pconfig.stdout_events_enabled),
            'stdout_syslog': bool(pconfig.stdout_syslog),
            'stdout_logfile_backups': int(pconfig.stdout_logfile_backups),
            'stdout_logfile_maxbytes': int(pconfig.stdout_logfile_maxbytes),
            'stderr_logfile': logfile_value(pconfig.stderr_logfile),
            'stderr_capture_maxbytes': int(pconfig.stderr_capture_maxbytes),
            'stderr_events_enabled': bool(pconfig.stderr_events_enabled),
            'stderr_syslog': bool(pconfig.stderr_syslog),
            'stderr_logfile_backups': int(pconfig.stderr_logfile_backups),
            'stderr_logfile_maxbytes': int(pconfig.stderr_logfile_maxbytes),
            'stopsignal': int(pconfig.stopsignal),
            'stopwaitsecs': int(pconfig.stopwaitsecs),
            'stopasgroup': bool(pconfig.stopasgroup),
            'killasgroup': bool(pconfig.killasgroup),
            'exitcodes': [int(code) for code in pconfig.exitcodes],
            'redirect_stderr': bool(pconfig.redirect_stderr),
            'environment': dict(pconfig.environment or {}),
            'serverurl': pconfig.serverurl,
        }

    groups = []
    for gconfig in options.process_group_configs:
        entry = {
            'name': gconfig.name,
            'priority': int(gconfig.priority),
        }
        if isinstance(gconfig, EventListenerPoolConfig):
            entry['kind'] = 'eventlistener'
            entry['buffer_size'] = int(gconfig.buffer_size)
            entry['events'] = sorted(
                getEventNameByType(event) for event in gconfig.pool_events)
            entry['result_handler'] = _callable_spec(gconfig.result_handler)
        elif isinstance(gconfig, FastCGIGroupConfig):
            sock = gconfig.socket_config
            entry['kind'] = 'fcgi'
            entry['socket'] = str(sock)
            entry['socket_backlog'] = opt_int(getattr(sock, 'backlog', None))
            entry['socket_owner'] = opt_pair(getattr(sock, 'owner', None))
            entry['socket_mode'] = opt_int(getattr(sock, 'mode', None))
        else:
            entry['kind'] = 'process'
        entry['processes'] = [process_entry(p) for p in gconfig.process_configs]
        groups.append(entry)

    document = {
        'supervisord': supervisord,
        'serverurl': options.serverurl,
        'servers': servers,
        'rpcinterfaces': rpcinterfaces,
        'groups': groups,
        'warnings': list(options.parse_warnings),
        'infos': list(options.parse_infos),
    }
    sys.stdout.write(json.dumps(document, indent=1))
    sys.stdout.write('\n')
    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
