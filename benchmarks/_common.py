"""Command-line options every benchmark shares: CPU threads, device and seed."""

from __future__ import annotations

import argparse

import torch

import companion


def add_runtime_args(parser: argparse.ArgumentParser, *, seed: int = 0) -> argparse.ArgumentParser:
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: leave as is)")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda")
    parser.add_argument("--seed", type=int, default=seed)
    return parser


def setup_runtime(args: argparse.Namespace) -> torch.device:
    """Apply ``--threads``, seed everything and pick the device (printing one line about it)."""
    if args.threads:
        torch.set_num_threads(args.threads)
    return companion.setup(seed=args.seed, device=args.device)
