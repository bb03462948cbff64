/* rg-shard-planner.c — every scheme by name, for the CLI and the bench. */
#include "embed/rg-shard-planner.h"

#include <string.h>

#include "core/rg-error.h"

const char *const rg_shard_scheme_names[] = {
  "recshard",    "recshard-milp", "flexshard",      "greedy-size", "greedy-lookup",
  "greedy-size-lookup", "table-wise", "row-wise", "table-row-wise", "column-wise",
  "data-parallel", "lru",         "lfu",            NULL,
};

RgShardPlan *
rg_shard_plan_by_name (const char *scheme, const RgProfile *profile, const RgTableSpec *tables,
                       uint32_t n_tables, const RgTopology *topo, const RgShardCost *cost,
                       GError **error)
{
  gboolean needs_profile = g_str_has_prefix (scheme, "recshard")
                           || g_str_has_prefix (scheme, "greedy-")
                           || strcmp (scheme, "flexshard") == 0;
  if (needs_profile && !profile)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_INVALID_ARGUMENT,
                   "scheme \"%s\" plans from a profile; none was given", scheme);
      return NULL;
    }
  RgRecShardOptions opts;
  rg_recshard_options_defaults (&opts);
  if (strcmp (scheme, "recshard") == 0)
    return rg_recshard_plan_greedy (profile, tables, topo, cost, &opts, error);
  if (strcmp (scheme, "recshard-milp") == 0)
    return rg_recshard_plan_milp (profile, tables, topo, cost, &opts, error);
  if (strcmp (scheme, "flexshard") == 0)
    return rg_flexshard_plan (profile, tables, topo, cost, 0, error);
  if (strcmp (scheme, "greedy-size") == 0)
    return rg_shard_plan_greedy (RG_GREEDY_SIZE, profile, tables, topo, error);
  if (strcmp (scheme, "greedy-lookup") == 0)
    return rg_shard_plan_greedy (RG_GREEDY_LOOKUP, profile, tables, topo, error);
  if (strcmp (scheme, "greedy-size-lookup") == 0)
    return rg_shard_plan_greedy (RG_GREEDY_SIZE_LOOKUP, profile, tables, topo, error);
  if (strcmp (scheme, "lru") == 0)
    return rg_shard_plan_cache (RG_SHARD_CACHE_LRU, tables, n_tables, topo, error);
  if (strcmp (scheme, "lfu") == 0)
    return rg_shard_plan_cache (RG_SHARD_CACHE_LFU, tables, n_tables, topo, error);
  return rg_shard_plan_classic (scheme, profile, tables, n_tables, topo, error);
}
