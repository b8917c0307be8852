"""RQ side: the worker entry point and the jobs it runs."""
