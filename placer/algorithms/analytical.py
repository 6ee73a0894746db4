"""``analytical``: electrostatics-based global placement of hard and soft macros, in torch.

Follows ePlace (Lu et al., "ePlace: Electrostatics-based placement using fast Fourier transform
and Nesterov's method", ACM TODAES 2015) as formulated for GPUs by DREAMPlace (Lin et al.,
"DREAMPlace: Deep learning toolkit-enabled GPU acceleration for modern VLSI placement", DAC
2019). It minimises

    f(x, y) = WL_gamma(x, y) + lambda * N(x, y)

over the centres of the movable macros (hard and soft, not fixed; ports and fixed nodes stay):

* ``WL_gamma`` -- a smooth wirelength: weighted-average (WA, default) or log-sum-exp (LSE)
  per net and axis, times the net weight, over pin positions (hard-macro pins keep their
  offsets turned by the macro's orientation). The smoothing ``gamma`` follows DREAMPlace's
  schedule, ``gamma = gamma_factor * bin * 10^((overflow - 0.1) * 20/9 - 1)``: smooth while
  macros overlap a lot, sharp when they are spread.
* ``N`` -- the electrostatic potential energy of the macros as charges: a bin density map is
  built from the exact overlap of each footprint with every bin (a side shorter than sqrt(2)
  bins is stretched to sqrt(2) bins with the charge kept, as in ePlace); Poisson's equation
  ``laplacian(phi) = -rho`` with Neumann boundaries is solved spectrally with a cosine
  transform computed by ``torch.fft``; the gradient of the energy moves each macro along the
  field ``-grad(phi)`` averaged over its footprint, each bin weighted by the overlap (ePlace's
  form, smooth in the position).
* ``lambda`` starts at ``density_weight * |grad WL|_1 / |grad N|_1`` (ePlace's balance) and
  grows by ``density_growth`` per iteration until the overflow (area above the target density,
  over the movable area) drops below ``stop_overflow``.
* The optimiser is Nesterov's accelerated gradient with ePlace's step length from a
  Lipschitz-constant estimate (``|v_k - v_{k-1}| / |g_k - g_{k-1}|``) and its diagonal
  preconditioner (pin count + lambda x charge), without backtracking; or Adam (option).
  Centres are projected into the canvas after every step.

Hard-macro overlap left at the end is removed by the legaliser that :meth:`Placer.place` runs.
Runs on CUDA when available (``device="auto"``) and on the CPU otherwise; on the CPU it uses
float64 and is deterministic for a seed (the seed only jitters the start by a hair) when the
run ends by itself (``max_iterations`` or ``stop_overflow``): one the budget cuts stops at an
iteration that varies run to run, and says so. On the CPU it runs torch on one thread by default
(option ``threads``): the sums of its matrix products depend on the thread count, so a run's
last bits did too, and ``placer place`` (a thread per core) and a batch worker (one) gave
different placements for one seed.
"""

from __future__ import annotations

import math

from netlists.model import Netlist, Placement
from placer.algorithms import options as opt
from placer.algorithms.base import Placer, ProgressCallback, Requirement, register_placer

#: Most bins per side: a 2048 x 2048 grid already takes dozens of density and field arrays of
#: 32 MB each (float64); a larger one is an out-of-memory crash, not a finer placement.
MAX_BINS = 2048

#: Notes of a run the budget cut short (``global_refine`` reads them).
SETUP_TOOK_THE_BUDGET = ("the analytical placement's set-up took the whole budget: no iteration ran, "
                         "the result is its start")
CUT_BY_THE_BUDGET = "the analytical placement stopped at its budget"


def default_bins(n_macros: int) -> int:
    """Bins per side: the power of two at or above ``2 sqrt(macros)``, between 64 and 128
    (finer bins than macros spread soft macros better for the proxy's density term)."""
    return int(min(128, max(64, 2 ** math.ceil(math.log2(max(2.0 * math.sqrt(n_macros), 1.0))))))


@register_placer
class Analytical(Placer):
    """ePlace / DREAMPlace-style analytical global placement (see module docstring).

    Options (keyword arguments):
        wirelength: "wa" (weighted average, default) or "lse" (log-sum-exp).
        optimizer: "nesterov" (default, Lipschitz step and preconditioner) or "adam".
        device: "auto" (CUDA when available, default), "cpu", "cuda" or "cuda:N" (refused
            where this machine has no such device).
        dtype: "float64" / "float32" (default float64 on the CPU, float32 on CUDA).
        bins: bins per side of the density grid (default: the power of two at or above
            2 sqrt(macros), between 64 and 128, :func:`default_bins`; at most :data:`MAX_BINS`).
        target_density: bin density counted as overflow above it (1.0; at least 1: every
            node is a macro, whose own interior is at density 1, so below 1 each macro's
            interior counted as overflow and the stop at ``stop_overflow`` was out of reach).
        stop_overflow: stop when the overflow falls below it (0.1, as ePlace).
        max_iterations: at most this many iterations (1000); the budget also stops it.
        density_weight: initial lambda relative to the gradient-norm balance (0.1).
        density_growth: lambda multiplier per iteration (1.05).
        hpwl_ref: when positive, ePlace's adaptive multiplier instead,
            ``density_growth ** (1 - hpwl_rise / hpwl_ref)`` clipped to [0.95, density_growth],
            with ``hpwl_rise`` the relative HPWL change of the iteration (0: off; on the
            designs tried, the plain growth spread better within short budgets).
        max_step_bins: largest move per Nesterov step, in bins (4.0; caps the Lipschitz step).
        gamma_factor: wirelength smoothing in bins at overflow 0.1 x 10 (4.0, DREAMPlace; at
            most 1e4: far past the canvas (at most 2048 bins a side) the smoothing flattens
            every net, and 1e300 made it infinite, silently).
        learning_rate: Adam step in bins (0.5; with optimizer="adam" only, as max_step_bins
            with "nesterov" only: the other optimiser ignored it).
        threads: torch's CPU threads for the run (1, default: the same result through every
            entry point, batch workers running one math thread each; more may be faster on
            many cores, each count giving its own last bits, which a long run amplifies into
            another placement). Put back after the run.
    """

    name = "analytical"
    option_names = frozenset(
        {
            "wirelength",
            "optimizer",
            "device",
            "dtype",
            "bins",
            "target_density",
            "stop_overflow",
            "max_iterations",
            "density_weight",
            "density_growth",
            "hpwl_ref",
            "max_step_bins",
            "gamma_factor",
            "learning_rate",
            "threads",
        }
    )
    option_checks = {
        "wirelength": opt.choice("wa", "lse"),
        "optimizer": opt.choice("nesterov", "adam"),
        "device": opt.device(),
        "dtype": opt.choice("float64", "float32"),
        "bins": opt.whole(2, MAX_BINS, none_ok=True),
        "target_density": opt.number(1.0),
        "stop_overflow": opt.number(0.0),
        "max_iterations": opt.whole(0),
        "density_weight": opt.number(0.0, low_open=True),
        "density_growth": opt.number(1.0),
        "hpwl_ref": opt.number(0.0),
        "max_step_bins": opt.number(0.0, low_open=True),
        "gamma_factor": opt.number(0.0, 1e4, low_open=True),
        "learning_rate": opt.number(0.0, low_open=True),
        "threads": opt.whole(1, 1024),
    }
    # each optimiser reads its own step option (the other one's was accepted, then ignored)
    option_requires = {
        "learning_rate": Requirement("optimizer", lambda v: v == "adam", "nesterov", "=adam"),
        "max_step_bins": Requirement("optimizer", lambda v: v == "nesterov", "nesterov", "=nesterov"),
    }
    #: Global placement leaves many hard-macro overlaps for the legaliser: a quarter of the
    #: budget is kept for it. It took about 4 s on ibm01 when this was set (2cdff29); today's
    #: takes 0.00-0.16 s on ibm01, ibm10 and ibm17 at 1-5 s budgets
    #: (``experiments/results/budget_adherence.md``, 1197755), so the reserve is generous; changing it
    #: would move every recorded ``analytical`` and ``global_refine`` result.
    legalize_reserve = 0.25

    def run(
        self,
        netlist: Netlist,
        placement: Placement,
        budget_s: float,
        seed: int,
        progress: ProgressCallback,
    ) -> Placement:
        from placer.algorithms.electrostatic import global_place  # (torch: loaded here only)

        return global_place(netlist, placement, budget_s, seed, progress, self.options)
