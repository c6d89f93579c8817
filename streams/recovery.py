"""faust's end of a rebalance, with flow control held until faust resumes it.

faust (0.15) finishes a rebalance by resuming the stream partitions, seeking them to their committed
offsets, and only then resuming flow control, which empties every stream's queue. Flow control is
already active at that point (the changelog restore resumed it), so records fetched in between reach
the queues and are thrown away, neither processed nor acked. Where the partition had a committed
offset the seek usually reads them again; a partition without one (a group's first run, or a worker
killed before its first commit) never does. Those records are then not processed in this run, and
because faust commits only up to the first offset it has not seen acked, the worker never commits
that partition again: the SIGKILL fault test caught a worker whose lag on leads.clean stayed at about
1,100 for good.

Suspending flow control first makes the conductor hold each fetched record back instead of queueing
it; faust's own resume then empties queues that are still empty and lets the held records through in
order.
"""

from __future__ import annotations

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class FlowHoldingRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        self.app.flow_control.suspend()
        # If faust gives up on this generation part-way, flow stays suspended: the rebalance that made
        # it give up suspends flow too, and its own recovery resumes it.
        await super().on_recovery_completed(generation_id)


class FlowHoldingTableManager(TableManager):
    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = FlowHoldingRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
