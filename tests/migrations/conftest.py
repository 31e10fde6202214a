import pytest

from tests.migrations.before_split import database_load


@pytest.fixture
def database_before_split(tmp_path):
    """The dump as a database file, its media folder and the files its rows name."""
    return database_load(tmp_path)
