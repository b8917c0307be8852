"""gunicorn settings for the web app; gunicorn reads ./gunicorn.conf.py by itself when started
from this folder (`gunicorn wsgi:app`); from elsewhere, name it: `gunicorn -c <path> ...`.

The access log goes to stdout, with the OAuth callback's query string (Xero's code and our
state) redacted by wizard.gunicorn_logging. `--access-logfile` on the command line overrides.
"""

import os
import sys

# logger_class is ours: importable whichever folder gunicorn starts in.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

accesslog = "-"
logger_class = "wizard.gunicorn_logging.RedactingLogger"
