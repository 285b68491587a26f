"""``edo-rules explain DOC_ID``: why each rule fires or not for one document."""

from __future__ import annotations

import argparse
from typing import Any

from edo_rules.calendar import ProductionCalendar
from edo_rules.cli._engine_options import add_engine_args, now_or, open_existing_store
from edo_rules.engine import Engine
from edo_rules.playbook.loader import load_playbooks


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="explain, for one document, why each rule fires or not",
        description="For every rule: whether the document matches (and which condition"
        " fails, with the values), each step's due moment with the working-day"
        " arithmetic, and what already fired. Reads only; records nothing.",
    )
    parser.add_argument("document_id", metavar="DOC_ID", help="the document id (1C Ref_Key)")
    add_engine_args(parser)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    playbooks = load_playbooks([args.playbooks])
    with open_existing_store(args.store) as store:
        engine = Engine(store, playbooks, ProductionCalendar.russia())
        print(engine.explain(args.document_id, now_or(args.at)).render())
    return 0
