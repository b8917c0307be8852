"""Settings: one documented name each, read in wizard/config.py; a malformed or unknown one stops
the start with a message naming it; building the app changes nothing in the process environment."""

from __future__ import annotations

import os

import pytest

from wizard import create_app
from wizard.config import Config, SettingError


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SYNC_PAGE_SIZE", "lots", "SYNC_PAGE_SIZE='lots': expected a whole number"),
        ("SYNC_RUN_LOCK_SECONDS", "1", "SYNC_RUN_LOCK_SECONDS='1': expected a whole number of at least 3"),
        ("XERO_TIME_SCALE", "fast", "XERO_TIME_SCALE='fast': expected a number"),
        ("DEMO_MODE", "maybe", "DEMO_MODE='maybe': expected one of 1, true"),
        ("WIZARD_ENV", "prod", "WIZARD_ENV='prod': expected one of development, production"),
    ],
)
def test_a_malformed_setting_stops_the_start_naming_it(test_env, monkeypatch, name, value, expected):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        create_app({"TESTING": True})
    assert expected in str(refused.value)


@pytest.mark.parametrize("name", ["XERO_CLIENTID", "SYNC_PAGESIZE", "WIZARD_ENVIRONMENT"])
def test_an_unknown_name_in_our_namespaces_stops_the_start(test_env, monkeypatch, name):
    monkeypatch.setenv(name, "1")
    with pytest.raises(SettingError, match=f"{name} is not a setting of this app"):
        create_app({"TESTING": True})


def test_flask_prefixed_settings_are_refused_with_the_documented_name(test_env, monkeypatch):
    monkeypatch.setenv("FLASK_SYNC_PAGE_SIZE", "40")
    with pytest.raises(SettingError, match="FLASK_SYNC_PAGE_SIZE is not read: set SYNC_PAGE_SIZE instead"):
        create_app({"TESTING": True})


def test_documented_names_are_read_once_with_their_types(test_env, monkeypatch):
    monkeypatch.setenv("SYNC_PAGE_SIZE", "40")
    monkeypatch.setenv("XERO_TIME_SCALE", "2.5")
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("XERO_SANDBOX_SEED", "demo")  # the sandbox's own name: not ours to refuse
    config = create_app({"TESTING": True}).config
    assert config["SYNC_PAGE_SIZE"] == 40 and config["XERO_TIME_SCALE"] == 2.5
    assert config["RATELIMIT_ENABLED"] is False


def test_defaults_live_in_config_alone():
    config = Config({})
    assert (config.SYNC_PAGE_SIZE, config.SYNC_SWEEP_SECONDS, config.SYNC_RUN_LOCK_SECONDS) == (1000, 10, 24)


def test_building_the_app_leaves_the_process_environment_alone(test_env, monkeypatch):
    monkeypatch.delenv("OAUTHLIB_INSECURE_TRANSPORT", raising=False)
    before = dict(os.environ)
    create_app({"TESTING": True})
    assert dict(os.environ) == before
