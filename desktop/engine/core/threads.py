"""How the networks' worker threads share the CPU with everything else on the machine.

torch's CPU kernels run on libgomp, which reads ``OMP_WAIT_POLICY`` once, when torch is
imported: with its default, idle workers spin for a while before sleeping, and with
another busy program on a 2-core machine a spinning worker waits for a descheduled one
(MTCNN 4x slower). Passive waiting hands the core back instead (``python main.py bench --only threads``).
"""
from __future__ import annotations

import logging
import os
import sys
from typing import Protocol

from desktop.engine.core.errors import SettingsError

log = logging.getLogger(__name__)

POLICIES = ("passive", "active", "default")


class _Settings(Protocol):
    """The part of ``Settings`` this module reads (core sits below the settings layer)."""
    omp_wait_policy: str


def apply_wait_policy(settings: _Settings) -> str:
    """Put the configured OpenMP wait policy into the environment before torch loads;
    returns the policy in force. A user's own $OMP_WAIT_POLICY is left alone."""
    policy = settings.omp_wait_policy.strip().lower()
    if policy not in POLICIES:
        raise SettingsError(f"omp_wait_policy = {settings.omp_wait_policy!r}: choose "
                            f"{', '.join(POLICIES)}")
    current = os.environ.get("OMP_WAIT_POLICY")
    if current or policy == "default":
        return (current or "default").lower()
    if "torch" in sys.modules:
        log.info("omp_wait_policy %s takes effect at the next start (torch is loaded)", policy)
        return "default"
    os.environ["OMP_WAIT_POLICY"] = policy.upper()
    return policy


def intra_op_threads(setting: int) -> int:
    """Worker threads per network call: the setting, or for 0 one per core. With passive
    waiting, one per core beat one per core but one beside a busy process, in the window
    too (``python main.py bench --only threads``); without it, it was the worst."""
    return setting if setting > 0 else max(1, os.cpu_count() or 1)


def wait_policy() -> str:
    """The policy this process runs with (as far as the environment tells)."""
    return os.environ.get("OMP_WAIT_POLICY", "default").lower()
