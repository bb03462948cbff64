/* bench-shard.c — RecShard and FlexShard against their baselines, at scale.
 *
 * The same comparison as `reelgen shard bench`, on a larger instance (64
 * tables each side, 2 nodes × 8 devices), once at the default global batch
 * of 4096 and once at 512, printing every scheme and the ratios against
 * the peers (the best whole-table greedy; row-wise sharding) computed in
 * this process. Modelled figures: see engine/embed/rg-shard-sim.h. */
#include <stdio.h>

#include "embed/rg-shard-bench.h"

static int
run (uint32_t batch)
{
  RgShardBenchConfig c;
  rg_shard_bench_config_defaults (&c);
  c.n_tables = 64;
  c.batch_size = batch;
  g_autoptr (GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (RgShardBenchResult) r = rg_shard_bench_run (&c, &error);
  if (!r)
    {
      fprintf (stderr, "bench-shard: %s\n", error->message);
      return 1;
    }
  printf ("=== %u tables, global batch %u, %u × %u devices (%.1f s) ===\n", c.n_tables, batch,
          c.n_nodes, c.devices_per_node, (g_get_monotonic_time () - t0) / 1e6);
  rg_shard_bench_print (r, stdout);
  printf ("\n");
  return 0;
}

int
main (void)
{
  return run (4096) || run (512);
}
