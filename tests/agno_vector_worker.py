"""Runs INSIDE an Agno release's venv (started by ``tests/test_vectors.py``), never in the project venv.

Drives Agno's own ``agno.vectordb.pgvector.PgVector`` on a real pgvector, with an embedder of our own that needs no
network (:class:`FixedEmbedder`: a text's embedding is a fixed function of its words, so the tests know which
rows a query must find).  Modes, each printing one JSON report on stdout:

* ``create``: ``PgVector(...).create()``, ``insert()`` of the given documents, then ``optimize()`` (the vector
  index of the given kind and the GIN full-text index), as an Agno user builds a knowledge base;
* ``singlestore-ddl``: the statements ``agno.vectordb.singlestore.SingleStore.create()`` (with its ``optimize()``)
  sends for a new table, captured by an engine that runs nothing (no SingleStore server here);
* ``use`` (3.x): on an existing table, ``search()`` without ``user_id`` and as two users, ``insert()`` of a
  document owned by ``alice``, and the searches again.

Only Agno's public behaviour is exercised; no Agno code is copied.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
from dataclasses import dataclass
from typing import Any

from agno.knowledge.document import Document
from agno.knowledge.embedder.base import Embedder
from agno.vectordb.pgvector import PgVector
from agno.vectordb.pgvector.index import HNSW, Ivfflat


def embed(text: str, dimensions: int) -> list[float]:
    """A unit vector: each word adds to the slots its hash picks, so texts sharing words are near."""
    vector = [0.0] * dimensions
    for word in text.lower().split():
        digest = hashlib.sha256(word.encode()).digest()
        vector[digest[0] % dimensions] += 1.0
        vector[digest[1] % dimensions] += 0.5
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


@dataclass
class FixedEmbedder(Embedder):
    dimensions: int = 16

    def get_embedding(self, text: str) -> list[float]:
        return embed(text, self.dimensions)

    def get_embedding_and_usage(self, text: str) -> tuple[list[float], dict | None]:
        return embed(text, self.dimensions), None

    async def async_get_embedding(self, text: str) -> list[float]:
        return embed(text, self.dimensions)

    async def async_get_embedding_and_usage(self, text: str) -> tuple[list[float], dict | None]:
        return embed(text, self.dimensions), None


def _vector_db(args: argparse.Namespace, **options: Any) -> PgVector:
    # Ivfflat's dynamic_lists counts the rows inside optimize()'s own session, which fails ("a transaction is
    # already begun on this Session") in every release tried: a fixed list count, as a user must pass too.
    index = Ivfflat(dynamic_lists=False, lists=1) if args.index == "ivfflat" else HNSW()
    # psycopg2: optimize() sends ``SET maintenance_work_mem = :value`` with a bound parameter, which psycopg 3's
    # server-side binding rejects (a syntax error at "$1"); psycopg2 binds on the client, as Agno's code expects.
    url = args.url.replace("postgresql+psycopg://", "postgresql+psycopg2://", 1)
    return PgVector(table_name=args.table, schema=args.schema, db_url=url, vector_index=index,
                    embedder=FixedEmbedder(dimensions=args.dimensions), **options)


def _docs(items: list[dict[str, Any]]) -> list[Document]:
    return [Document(id=d["name"], name=d["name"], content=d["content"], meta_data=d.get("meta_data", {}))
            for d in items]


def _names(found: list[Document]) -> list[str]:
    return sorted(d.name or "" for d in found)


def create(args: argparse.Namespace) -> dict[str, Any]:
    # optimize() writes the language into its GIN index unquoted (``to_tsvector(english, content)``: "column
    # english does not exist"); quoted, the index is the one Agno means.
    db = _vector_db(args, content_language="'english'")
    db.create()
    docs = json.loads(args.docs)
    if docs:
        db.insert(content_hash="seed", documents=_docs(docs), filters={"source": "seed"})
    db.optimize()
    return {"count": db.get_count()}


def use(args: argparse.Namespace) -> dict[str, Any]:
    db = _vector_db(args)
    query = args.query
    report: dict[str, Any] = {"supports_user_id": "user_id" in inspect.signature(db.search).parameters}
    report["top"] = _names(db.search(query, limit=1))
    report["shared"] = _names(db.search(query, limit=50))
    report["alice_before"] = _names(db.search(query, limit=50, user_id="alice"))
    new = _docs(json.loads(args.docs))
    db.insert(content_hash="alice-notes", documents=new, user_id="alice")
    report["alice"] = _names(db.search(query, limit=50, user_id="alice"))
    report["bob"] = _names(db.search(query, limit=50, user_id="bob"))
    report["shared_after"] = _names(db.search(query, limit=50))
    report["count"] = db.get_count()
    return report


class _Capture:
    """An engine stand-in that records the SQL text sent through ``connect().execute()``."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def connect(self) -> _Capture:
        return self

    def __enter__(self) -> _Capture:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def execute(self, statement: Any, *args: Any, **kwargs: Any) -> None:
        self.statements.append(" ".join(str(statement).split()))

    def commit(self) -> None:
        return None


def singlestore_ddl(args: argparse.Namespace) -> dict[str, Any]:
    from agno.vectordb.singlestore import SingleStore

    engine = _Capture()
    db = SingleStore(collection=args.table, schema=args.schema, db_engine=engine,  # type: ignore[arg-type]
                     embedder=FixedEmbedder(dimensions=args.dimensions))
    db.table_exists = lambda: False  # type: ignore[method-assign]
    db._index_exists = lambda name: False  # type: ignore[attr-defined]  # 3.x optimize() asks first
    db.create()
    return {"statements": engine.statements}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["create", "use", "singlestore-ddl"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--dimensions", type=int, default=16)
    parser.add_argument("--index", choices=["hnsw", "ivfflat"], default="hnsw")
    parser.add_argument("--docs", default="[]")
    parser.add_argument("--query", default="")
    args = parser.parse_args()
    modes = {"create": create, "use": use, "singlestore-ddl": singlestore_ddl}
    print(json.dumps(modes[args.mode](args)))


if __name__ == "__main__":
    main()
