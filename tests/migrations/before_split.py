"""The database made before the app split (``before_split.sql``, built by ``build_main_database.py`` with the code
of that time), loaded into a database file with the files its rows name, and ``manage.py`` run on it."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.environment import PROJECT_DIR

DUMP = Path(__file__).with_name("before_split.sql")
FILE_COLUMNS = {"classifier_prediction": ("image", "preview", "cell_crop", "gradcam"), "classifier_pendingimage": ("image",)}
ALICE_TOKEN = "f1649964e0fd1af91ce0fd0b9ec1eab8fee93483"  # Django REST framework's token of alice, in plain text


def database_load(folder: Path) -> tuple[Path, Path, list[Path]]:
    """The dump loaded into a database file, and the files its rows name written under a media folder."""
    database, media = folder / "before.sqlite3", folder / "media"
    with sqlite3.connect(database) as connection:
        connection.executescript(DUMP.read_text())
        names = [name for table, columns in FILE_COLUMNS.items() for column in columns
                 for (name,) in connection.execute(f'SELECT "{column}" FROM "{table}"') if name]
    files = []
    for name in names:
        path = media / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"\xff\xd8 a stored image " + name.encode())
        files.append(path)
    return database, media, files


def manage(*args, database: Path, media: Path, **environment) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "HEMATOVISION_MEDIA_ROOT": str(media),
                   **environment}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=environment,
                          capture_output=True, text=True, check=False)
