"""The `lms` command. Plugins add their commands through the register_commands hook."""

import logging

import typer

from lms.plugin_host import build_plugin_manager
from lms.settings import Settings


def build_cli(settings: Settings | None = None) -> typer.Typer:
    settings = settings or Settings()
    cli = typer.Typer(
        name="lms", help="hocvuso: nền tảng học kỹ năng số.", no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    pm = build_plugin_manager(settings)
    pm.hook.register_commands(cli=cli)
    return cli


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    build_cli()()
