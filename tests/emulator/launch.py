#!/usr/bin/env python3
"""Starts moto's server, with regionctl's extensions, on a loopback port.

Usage: launch.py [--port N]   (default 0: a free port chosen by the OS)

Prints one line `READY <port>` on stdout once the server accepts connections, then serves until
its standard input closes (the parent test process exiting, even by kill -9, closes it) or it is
killed. Everything else goes to stderr.
"""

import argparse
import os
import sys
import threading

# The EKS node role attaches AWS managed policies, which moto only knows when told to load them.
os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--no-stdin-watch",
        action="store_true",
        help="keep serving when stdin closes (for running it by hand in the background)",
    )
    args = parser.parse_args()

    try:
        from werkzeug.serving import make_server
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            create_backend_app,
        )
    except ImportError as e:
        print(
            f"moto's server is not installed ({e}); run: "
            f"python3 -m pip install -r {os.path.join(HERE, 'requirements.txt')}",
            file=sys.stderr,
        )
        return 3

    import regionctl_moto  # noqa: E402  (registers the extensions; needs moto importable)

    regionctl_moto.install()
    app = DomainDispatcherApplication(create_backend_app)
    app = regionctl_moto.wrap_app(app)
    server = make_server(args.host, args.port, app, threaded=True)
    print(f"READY {server.server_port}", flush=True)

    if not args.no_stdin_watch:

        def watch_stdin() -> None:
            try:
                sys.stdin.read()
            finally:
                os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()

    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
