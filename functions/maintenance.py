"""Timer: renew expiring SAS ingestion sources and revive stalled jobs, every five minutes."""

from __future__ import annotations

import logging
from datetime import timedelta

import azure.functions as func

from shared.pipeline.maintenance import refresh_sources, sweep_stalled
from shared.runtime import runtime

logger = logging.getLogger(__name__)

bp = func.Blueprint()

SCHEDULE = "0 */5 * * * *"
INTERVAL = timedelta(minutes=5)


@bp.function_name("maintenance")
@bp.timer_trigger(arg_name="timer", schedule=SCHEDULE, run_on_startup=False, use_monitor=True)
def maintenance(timer: func.TimerRequest) -> None:
    deps = runtime().pipeline
    if timer.past_due:
        logger.info("maintenance is running late (past due)")
    renewed = refresh_sources(deps, timer_interval=INTERVAL)
    report = sweep_stalled(deps)
    logger.info(
        "maintenance: %s sources renewed or checked, %s active jobs checked, %s settled, "
        "%s items revived",
        len(renewed),
        report.jobs_checked,
        report.jobs_settled,
        report.items_reposted + report.items_rechecked,
    )
