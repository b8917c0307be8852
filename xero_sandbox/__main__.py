"""`python -m xero_sandbox [--host H] [--port P] [--seed S] [--org-size N]` serves the sandbox;
`python -m xero_sandbox admin ...` drives a running one over HTTP."""

from __future__ import annotations

import argparse
import sys


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m xero_sandbox", description="Serve the Xero sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--seed", default=None, help="data seed (default XERO_SANDBOX_SEED or 'demo')")
    parser.add_argument("--org-size", type=int, default=300, help="records per demo organisation")
    parser.add_argument("--time-scale", type=float, default=None, help="rate-limit time scale")
    parser.add_argument("--no-limits", action="store_true", help="switch rate limits off")
    parser.add_argument(
        "--server",
        choices=("lean", "werkzeug"),
        default=None,
        help="HTTP server (default XERO_SANDBOX_SERVER or lean: threaded, keep-alive)",
    )
    parser.add_argument("--quiet", action="store_true", help="no access log lines")
    args = parser.parse_args(argv)
    import logging

    from . import create_app, default_config
    from .server import SandboxServer

    config = default_config()
    config["ORG_SIZE"] = args.org_size
    if args.seed:
        config["SEED"] = args.seed
    if args.time_scale:
        config["TIME_SCALE"] = args.time_scale
    if args.no_limits:
        config["LIMITS"] = {"enabled": False}
    if not args.quiet:
        access = logging.getLogger("xero_sandbox.server")
        access.setLevel(logging.INFO)
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        access.addHandler(handler)
        logging.getLogger("werkzeug").setLevel(logging.INFO)
    server = SandboxServer(create_app(config), args.host, args.port, args.server)
    print(f"Xero sandbox on {server.url} (client_id={config['CLIENT_ID']}, {server.engine} server)", flush=True)
    server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "admin":
        from .cli import main as admin_main

        return admin_main(argv[1:])
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
