"""Timer: renew expiring SAS ingestion sources and revive stalled jobs, every five minutes."""

from __future__ import annotations

import logging
from datetime import timedelta

import azure.functions as func

from shared.pipeline.maintenance import run_maintenance
from shared.runtime import runtime

logger = logging.getLogger(__name__)

bp = func.Blueprint()

SCHEDULE = "0 */5 * * * *"
INTERVAL = timedelta(minutes=5)


@bp.function_name("maintenance")
@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False, use_monitor=True)
def maintenance(timer: func.TimerRequest) -> None:
    if timer.past_due:
        logger.info("maintenance is running late (past due)")
    report = run_maintenance(runtime().pipeline, timer_interval=INTERVAL)
    sweep = report.sweep
    logger.info(
        "maintenance: %s sources renewed or checked, %s active jobs checked, %s settled, "
        "%s items revived",
        len(report.sources),
        sweep.jobs_checked,
        sweep.jobs_settled,
        sweep.items_reposted + sweep.items_rechecked,
    )
