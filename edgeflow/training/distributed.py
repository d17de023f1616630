"""Multi-process training with PyTorch's own engine: torchrun sets the environment, we join the group.

``torchrun --nproc_per_node=N -m edgeflow.train NAME ...`` starts N copies of the loop; each trains on its
DistributedSampler shard, DistributedDataParallel averages gradients (gloo, so CPUs and loopback work),
and only rank 0 logs and writes files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import numpy as np
import torch.distributed as dist
import torch.nn as nn
from torch.utils.data import DistributedSampler


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def join_world() -> World:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a world of one."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return World()
    if not dist.is_initialized():
        dist.init_process_group("gloo")
    return World(dist.get_rank(), dist.get_world_size())


def leave_world(world: World) -> None:
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def wrap(model: nn.Module, world: World) -> nn.Module:
    """DDP around ``model`` when there is more than one process; buffers (BN statistics) follow rank 0."""
    if not world.distributed:
        return model
    return nn.parallel.DistributedDataParallel(model)


def sync_buffers(model: nn.Module, world: World) -> None:
    """Copy rank 0's buffers (BN running statistics) to every rank: DDP only broadcasts them at the start
    of a forward, so after the last step each rank still holds the statistics of its own shard."""
    if world.distributed:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def shard_sampler(num_samples: int, world: World, seed: int) -> DistributedSampler:
    """The same shuffled order on every rank (seeded per epoch by ``set_epoch``), each rank its own slice."""
    return DistributedSampler(range(num_samples), num_replicas=world.size, rank=world.rank,
                              shuffle=True, seed=seed)


def weights_digest(model: nn.Module) -> str:
    h = hashlib.sha256()
    for key, value in sorted(model.state_dict().items()):
        h.update(key.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def replica_report(world: World, model: nn.Module, first_shard: list[int]) -> list[dict] | None:
    """Rank 0 gets one entry per rank: its first-epoch shard and a digest of its final weights."""
    mine = {"rank": world.rank, "shard_samples": len(first_shard),
            "shard_sha256": hashlib.sha256(np.asarray(first_shard, np.int64).tobytes()).hexdigest(),
            "shard_head": first_shard[:8], "weights_sha256": weights_digest(model)}
    if not world.distributed:
        return [mine]
    gathered: list[dict | None] = [None] * world.size
    dist.all_gather_object(gathered, mine)
    return gathered if world.is_main else None  # type: ignore[return-value]
