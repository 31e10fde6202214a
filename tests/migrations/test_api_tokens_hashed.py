"""Upgrading a database whose API tokens are Django REST framework's (keys in plain text) keeps every token working:
``accounts.0002`` stores each as its key's sha256 and first 8 characters, and drops the table of plain keys."""

import sqlite3

from tests.migrations.before_split import ALICE_TOKEN, manage

CHECKS = f"""
from django.test import Client
from django.urls import reverse
from accounts.models import ApiToken, token_digest
token = ApiToken.objects.get()
assert (token.user.username, token.prefix, token.digest) == ("alice", "{ALICE_TOKEN[:8]}", token_digest("{ALICE_TOKEN}"))
client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Token {ALICE_TOKEN}")
response = client.get(reverse("api:samples"))
assert response.status_code == 200, response.content
assert {{sample["identifier"] for sample in response.json()["results"]}} == {{"S-OPEN", "S-VERIFIED"}}
assert Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION="Token {ALICE_TOKEN[:-1]}0").get(reverse("api:samples")).status_code == 401
print("token works")
"""


def _values(database) -> list[str]:
    """Every value of every table, as text."""
    with sqlite3.connect(database) as connection:
        tables = [name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [str(value) for table in tables for row in connection.execute(f'SELECT * FROM "{table}"') for value in row]


def test_a_token_from_before_the_upgrade_still_authenticates_and_no_key_stays_readable(database_before_split):
    database, media, _ = database_before_split
    assert ALICE_TOKEN in _values(database)

    migrated = manage("migrate", "--noinput", database=database, media=media)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    assert not any(ALICE_TOKEN in value for value in _values(database))
    with sqlite3.connect(database) as connection:
        tables = {name for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "authtoken_token" not in tables and "accounts_apitoken" in tables
    # the dump's token is from 3 Dec 2026: lifetimes apart, it must still open the API
    checked = manage("shell", "-c", CHECKS, database=database, media=media, HEMATOVISION_TOKEN_TTL_HOURS="0")
    assert checked.returncode == 0 and "token works" in checked.stdout, checked.stdout + checked.stderr
