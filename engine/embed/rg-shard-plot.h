/* rg-shard-plot.h — PNG pictures of profiles and simulations (cairo).
 *
 *   cdf      one access-CDF curve per table: share of lookups (y) served by
 *            the hottest share of rows (x, log scale) — how much fast
 *            memory buys.
 *   schemes  for each scheme, the modelled memory time of every device as
 *            bars (load balance at a glance), and beside it the bytes per
 *            step by link class (intra-node, inter-node), stacked. */
#pragma once

#include <glib.h>

#include "embed/rg-profile.h"
#include "embed/rg-shard-sim.h"

G_BEGIN_DECLS

gboolean rg_shard_plot_cdf (const RgProfile *profile, const char *path, GError **error);

gboolean rg_shard_plot_schemes (const char *const *names, const RgShardSimResult *const *sims,
                                guint n, const char *path, GError **error);

G_END_DECLS
