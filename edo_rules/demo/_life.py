"""What happens in the emulated 1C on each simulated working day.

Managers create documents and send them through EDO; each customer answers
with its own pace — signs, signs with corrections, rejects with a comment, or
stays silent; a rejected document is corrected and sent again a day or two
later (which starts a new reminder ladder). Everything is drawn from one
seeded random generator, so a seed replays the same month.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from edo_rules.demo._company import Company, Customer
from edo_rules.emulators.onec import OneCBase

_KINDS = ("act", "act", "act", "upd", "upd", "upd", "contract", "contract", "invoice")
_REJECTIONS = (
    "Неверная сумма в акте",
    "Не тот договор в основании",
    "Просим исправить реквизиты покупателя",
    "Количество не соответствует заказу",
)
_DAY_START = time(9, 0)


@dataclass(frozen=True, slots=True)
class Happening:
    """One thing done in 1C: ``sent``, ``signed``, ``corrected``, ``rejected`` or ``resent``."""

    at: datetime  # naive 1C server time
    what: str
    document: str
    customer: Customer
    comment: str = ""


class Life:
    """Plans each day's happenings and carries them out on the 1C base in time order."""

    def __init__(self, base: OneCBase, company: Company, rng: random.Random) -> None:
        self._base = base
        self._company = company
        self._rng = rng
        self._waiting: dict[str, tuple[Customer, date]] = {}
        self._to_resend: dict[str, tuple[Customer, int]] = {}
        self._planned: list[tuple[datetime, int, str, Customer, str]] = []
        self._sequence = 0
        self.documents = 0

    def plan_day(self, day: date, new_documents: int) -> None:
        """Decide what happens on ``day`` (a working day)."""
        for _ in range(new_documents):
            self._plan("create", self._rng.choice(self._company.customers), day, "")
        for key, (customer, sent_on) in list(self._waiting.items()):
            if sent_on < day and self._rng.random() < customer.answer_rate:
                del self._waiting[key]
                self._plan(self._answer(), customer, day, key)
        for key, (customer, days_left) in list(self._to_resend.items()):
            if days_left > 0:
                self._to_resend[key] = (customer, days_left - 1)
                continue
            del self._to_resend[key]
            self._plan("resent", customer, day, key)

    def run_until(self, moment: datetime) -> list[Happening]:
        """Carry out, in time order, every planned happening up to ``moment``."""
        self._planned.sort()
        done: list[Happening] = []
        while self._planned and self._planned[0][0] <= moment:
            at, _, what, customer, key = self._planned.pop(0)
            done.extend(self._carry_out(at, what, customer, key))
        self._base.now = max(self._base.now, moment)
        return done

    @property
    def waiting(self) -> int:
        """Documents sent and not yet answered."""
        return len(self._waiting)

    # -- planning -----------------------------------------------------------------------
    def _plan(self, what: str, customer: Customer, day: date, key: str) -> None:
        minutes = self._rng.uniform(0, 8 * 60 + 30)
        at = datetime.combine(day, _DAY_START) + timedelta(minutes=minutes)
        self._sequence += 1
        self._planned.append((at.replace(microsecond=0), self._sequence, what, customer, key))

    def _answer(self) -> str:
        roll = self._rng.random()
        if roll < 0.86:
            return "signed"
        return "corrected" if roll < 0.9 else "rejected"

    # -- carrying out ---------------------------------------------------------------------
    def _carry_out(self, at: datetime, what: str, customer: Customer, key: str) -> list[Happening]:
        if what == "create":
            key = self._create(customer, at - timedelta(minutes=10))
            what = "sent"
        if what in ("sent", "resent"):
            # Signed and sent just before ``at``: every change is in 1C by then.
            self._base.send(key, at=at - timedelta(minutes=5))
            self._waiting[key] = (customer, at.date())
        elif what == "rejected":
            comment = self._rng.choice(_REJECTIONS)
            self._base.reject(key, comment, at=at)
            self._to_resend[key] = (customer, self._rng.randint(0, 1))
            return [Happening(at, what, key, customer, comment)]
        else:
            self._base.sign(key, at=at, corrected=what == "corrected")
        return [Happening(at, what, key, customer)]

    def _create(self, customer: Customer, at: datetime) -> str:
        self.documents += 1
        kind = self._rng.choice(_KINDS)
        amount = round(self._rng.uniform(15_000, 900_000), -2)
        return self._base.create_document(
            counterparty=customer.counterparty_key,
            responsible=self._company.managers[customer.manager],
            organization=self._company.organization_key,
            kind=kind,
            amount=amount,
            contract=customer.contract_key,
            at=at,
        )
