"""The bare reference for bench/throughput.py: FastAPI reading one row through a SQLModel
session and rendering a Jinja template, as lean as the framework allows. Our pages are
measured against it in the same run, on the same machine, with the same worker count."""

import os
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from jinja2 import DictLoader, Environment
from sqlmodel import Field, Session, SQLModel, create_engine, select

DATABASE = os.environ.get("REFERENCE_DATABASE", str(Path(__file__).with_name("reference.db")))
engine = create_engine(f"sqlite:///{DATABASE}", connect_args={"check_same_thread": False})
templates = Environment(loader=DictLoader({"page.html": (
    "<!doctype html><html lang=vi><head><meta charset=utf-8><title>{{ row.title }}</title></head>"
    "<body><main><h1>{{ row.title }}</h1><p>{{ row.body }}</p></main></body></html>")}), autoescape=True)


class Row(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str
    body: str


def prepare() -> None:
    SQLModel.metadata.create_all(engine)
    with Session(engine) as db:
        if db.get(Row, 1) is None:
            db.add(Row(id=1, title="Bài học", body="Nội dung bài học " * 50))
            db.commit()


def session():
    with Session(engine) as db:
        yield db


app = FastAPI()


@app.get("/page", response_class=HTMLResponse)
def page(request: Request, db: Session = Depends(session)) -> str:
    row = db.exec(select(Row).where(Row.id == 1)).one()
    return templates.get_template("page.html").render(row=row)


prepare()
