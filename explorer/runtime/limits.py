"""The limits a teacher sets for a class sharing one server, and the check a run must pass before it may start.

Three limits, each a setting (an environment variable, or the same name at the top level of the app's
``.streamlit/secrets.toml``; the environment wins):

========================================  ========  ==============================================================
setting                                   default   what it bounds
========================================  ========  ==============================================================
``EXPLORER_MAX_RUNS_PER_LEARNER``         1         queued-or-running runs one learner may have at a time
``EXPLORER_MAX_QUEUE``                    20        queued-or-running runs on the machine, all learners together
``EXPLORER_MAX_RUN_MINUTES``              30        the longest run a learner may start, as estimated on this device
========================================  ========  ==============================================================

The teacher (``EXPLORER_ADMIN_TOKEN``) is bound by none of them. A refused start is a :class:`LimitReached` whose
sentence names the limit and what to do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..i18n import N_, InvalidValue, Message

RUNS_PER_LEARNER = "EXPLORER_MAX_RUNS_PER_LEARNER"
QUEUE = "EXPLORER_MAX_QUEUE"
RUN_MINUTES = "EXPLORER_MAX_RUN_MINUTES"
ADMIN_TOKEN = "EXPLORER_ADMIN_TOKEN"


class LimitReached(InvalidValue):
    """A run refused by one of the class's limits (a ``ValueError``: the recipe, or the moment, is what to change)."""


class BadSetting(InvalidValue):
    """A limit's setting that is not a number of the right kind."""


@dataclass(frozen=True)
class ClassLimits:
    """The class's limits; :meth:`load` reads them from the settings."""

    runs_per_learner: int = 1
    queue: int = 20
    run_minutes: float = 30.0

    @classmethod
    def load(cls, settings: Mapping[str, object] | None = None) -> ClassLimits:
        """The limits of ``settings`` (default: the environment), each missing one at its default."""
        settings = os.environ if settings is None else settings
        return cls(runs_per_learner=_number(settings, RUNS_PER_LEARNER, cls.runs_per_learner, whole=True),
                   queue=_number(settings, QUEUE, cls.queue, whole=True),
                   run_minutes=_number(settings, RUN_MINUTES, cls.run_minutes, whole=False))

    def check(self, *, mine: int, queued: int, estimate_s: float | None) -> None:
        """Refuse (:class:`LimitReached`) a new run of a learner who has ``mine`` runs queued or running, on a machine
        with ``queued`` runs queued or running in all, estimated to take ``estimate_s`` seconds (``None``: not
        known, not checked)."""
        if mine >= self.runs_per_learner:
            raise LimitReached(N_("you already have as many runs queued or running as a learner may have on this "
                                  "server ({limit}): stop one of yours or wait for it to end, then start this one"),
                               limit=self.runs_per_learner)
        if queued >= self.queue:
            raise LimitReached(N_("the training queue of this server is full ({queued} runs queued or running, the "
                                  "limit is {limit}): try again when some of them have ended"),
                               queued=queued, limit=self.queue)
        if estimate_s is not None and estimate_s > self.run_minutes * 60:
            raise LimitReached(N_("this run is estimated at {estimate} min on this device, longer than the {limit} "
                                  "min a learner may start here: choose fewer epochs or fewer training images"),
                               estimate=math.ceil(estimate_s / 60), limit=f"{self.run_minutes:g}")


def _number(settings: Mapping[str, object], name: str, default: float, *, whole: bool) -> int | float:
    raw = settings.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    try:
        value = float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (value < 1 or value != int(value) if whole else value <= 0):
        kind = N_("a whole number of at least 1") if whole else N_("a positive number of minutes")
        raise BadSetting(N_("the setting {name} must be {kind}, not {value}"), name=name, kind=Message(kind),
                         value=repr(raw))
    return int(value) if whole else value

