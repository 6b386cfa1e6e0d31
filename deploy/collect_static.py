"""Copy the static files under their hashed names, for nginx to serve (deploy/nginx/hocvuso.conf).

The app names each file by its content (lms/staticfiles.py: static/css/site.css is served as
/static/css/site.<first 10 hex of its SHA-256>.css), so a hashed name never changes meaning and is
cached for a year. This writes DEST/static/<hashed name> for the folders the app serves (the site's
static/ and the plugins' static_dirs). Files already there stay: pages rendered by a host still on
the previous release keep finding theirs during a rolling upgrade.

    /opt/hocvuso/.venv/bin/python /opt/hocvuso/deploy/collect_static.py /var/www/hocvuso

after each release, from that release's folder (with the hosts' LMS_PLUGINS_DISABLE if they set
one), on the nginx machine or on one host and then copied over (rsync without --delete).
"""

import os
import shutil
import sys
from pathlib import Path

from lms import paths
from lms.plugin_host import build_plugin_manager, flatten
from lms.settings import Settings
from lms.staticfiles import HashedStatic


def collect(dest: Path) -> tuple[int, int]:
    """(files written, files already there)."""
    pm = build_plugin_manager(Settings())
    folders = [("", paths.static_dir())] + [(name, Path(folder)) for name, folder in flatten(pm.hook.static_dirs())]
    static = HashedStatic(folders)  # the same names as the app's, from the same folders
    written = kept = 0
    for name, folder in folders:
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if not path.is_file() or path.name.startswith("."):
                continue
            rel = path.relative_to(folder).as_posix()
            rel = f"{name}/{rel}" if name else rel
            if static.path(rel) != path:  # an earlier folder's file of the same name wins
                continue
            target = dest / static.url(rel).lstrip("/")
            if target.exists():
                kept += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            shutil.copyfile(path, partial)
            os.chmod(partial, 0o644)
            partial.replace(target)  # nginx never sees half a file
            written += 1
    return written, kept


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    written, kept = collect(Path(sys.argv[1]))
    print(f"Đã chép {written} tệp tĩnh, {kept} tệp đã có sẵn.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
