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
    args = parser.parse_args(argv)
    from werkzeug.serving import run_simple

    from . import create_app, default_config

    config = default_config()
    config["ORG_SIZE"] = args.org_size
    if args.seed:
        config["SEED"] = args.seed
    if args.time_scale:
        config["TIME_SCALE"] = args.time_scale
    if args.no_limits:
        config["LIMITS"] = {"enabled": False}
    app = create_app(config)
    print(f"Xero sandbox on http://{args.host}:{args.port} (client_id={config['CLIENT_ID']})", flush=True)
    run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "admin":
        from .cli import main as admin_main

        return admin_main(argv[1:])
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
