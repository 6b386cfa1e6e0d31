"""A test plugin that ships course packs from a folder named by HOCVUSO_TEST_PACKS."""

import os
from pathlib import Path

from lms.hookspecs import hookimpl
from lms.plugins import PluginMeta

meta = PluginMeta(name="extra_packs", label="Gói khóa học thêm", requires=["courses"])


@hookimpl
def course_pack_dirs() -> list[Path]:
    return [Path(os.environ["HOCVUSO_TEST_PACKS"])]
