"""Offline stand-in for ansible-test's get-pip-24.2.py download (see engine.md §6).

ansible-test runs ``python get_pip_24_2.py <pip args>`` in each fresh sanity venv.  This
bootstraps pip with ``ensurepip`` (no network) and then runs ``pip <args>`` so the
requirements come from the configured package index.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
DROP = ("--disable-pip-version-check", "--no-setuptools", "--no-wheel")
args = [a for a in sys.argv[1:] if a not in DROP]
if args:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--disable-pip-version-check"] + args)
