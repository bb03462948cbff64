/* rg-shard-plan-io.c — plans as JSON files.
 *
 *   { "format": "reelgen-shard-plan", "version": 1, "scheme": "recshard",
 *     "topology": { "nodes": 2, "devices_per_node": 8,
 *                   "fast_bytes": …, "slow_bytes": … },
 *     "cache": { "policy": "none" | "lru" | "lfu", "rows": 0 },
 *     "tables": [ { "rows": …, "dim": …, "elem_bytes": 4,
 *                   "hot_rows": null | "<base64 of u64 little-endian row ids>",
 *                   "segments": [ { "rows": [b, e], "cols": [b, e],
 *                                   "tier": "fast" | "slow",
 *                                   "groups": [[d, …], …] } ] } ] }
 *
 * "hot_rows" is the row remap, compactly: the physical rows holding ranks
 * 0, 1, … k−1 in that order; every other row follows in ascending row
 * order. A profile's ranking is exactly that shape (rows it never saw keep
 * their order), so a table of millions of rows stores only its hot ones.
 * null = identity.
 *
 * Loading checks types and ranges member by member, then the whole plan
 * with rg_shard_plan_validate(), so a hand-edited or hostile file gets an
 * error naming what is wrong. */
#include "embed/rg-shard-plan.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "core/rg-error.h"

#define PLAN_FORMAT  "reelgen-shard-plan"
#define PLAN_VERSION 1

static const char *cache_names[] = { "none", "lru", "lfu" };

/* ---- save ---- */

static void
add_pair (JsonBuilder *b, const char *name, int64_t x, int64_t y)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, x);
  json_builder_add_int_value (b, y);
  json_builder_end_array (b);
}

/* The shortest prefix of the ranking after which rows are ascending. */
static char *
rank_to_hot_rows (const int64_t *rank, int64_t rows)
{
  g_autofree int64_t *order = g_new (int64_t, rows);
  for (int64_t r = 0; r < rows; r++)
    order[rank[r]] = r;
  int64_t k = rows - 1;
  while (k > 0 && order[k - 1] < order[k])
    k--;
  /* Rows [k, rows) ascend; the prefix must also leave them in row order,
   * which holds when they are exactly the rows not in the prefix. */
  g_autofree guint8 *raw = g_malloc ((gsize) MAX (k, 1) * 8);
  for (int64_t i = 0; i < k; i++)
    for (int b = 0; b < 8; b++)
      raw[i * 8 + b] = (guint8) ((uint64_t) order[i] >> (8 * b));
  return g_base64_encode (raw, (gsize) k * 8);
}

gboolean
rg_shard_plan_save (const RgShardPlan *plan, const char *path, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "format");
  json_builder_add_string_value (b, PLAN_FORMAT);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, PLAN_VERSION);
  json_builder_set_member_name (b, "scheme");
  json_builder_add_string_value (b, plan->scheme);

  json_builder_set_member_name (b, "topology");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "nodes");
  json_builder_add_int_value (b, plan->topo.n_nodes);
  json_builder_set_member_name (b, "devices_per_node");
  json_builder_add_int_value (b, plan->topo.devices_per_node);
  json_builder_set_member_name (b, "fast_bytes");
  json_builder_add_int_value (b, (gint64) plan->topo.fast_bytes);
  json_builder_set_member_name (b, "slow_bytes");
  json_builder_add_int_value (b, (gint64) plan->topo.slow_bytes);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "cache");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "policy");
  json_builder_add_string_value (b, cache_names[plan->cache]);
  json_builder_set_member_name (b, "rows");
  json_builder_add_int_value (b, plan->cache_rows);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "tables");
  json_builder_begin_array (b);
  for (uint32_t t = 0; t < plan->n_tables; t++)
    {
      const RgShardTable *tab = &plan->tables[t];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "rows");
      json_builder_add_int_value (b, tab->rows);
      json_builder_set_member_name (b, "dim");
      json_builder_add_int_value (b, tab->dim);
      json_builder_set_member_name (b, "elem_bytes");
      json_builder_add_int_value (b, tab->elem_bytes);
      json_builder_set_member_name (b, "hot_rows");
      if (tab->rank)
        {
          g_autofree char *enc = rank_to_hot_rows (tab->rank, tab->rows);
          json_builder_add_string_value (b, enc);
        }
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "segments");
      json_builder_begin_array (b);
      for (uint32_t s = 0; s < tab->n_segments; s++)
        {
          const RgShardSegment *seg = &tab->segments[s];
          json_builder_begin_object (b);
          add_pair (b, "rows", seg->row_begin, seg->row_end);
          add_pair (b, "cols", seg->col_begin, seg->col_end);
          json_builder_set_member_name (b, "tier");
          json_builder_add_string_value (b, rg_tier_name (seg->tier));
          json_builder_set_member_name (b, "groups");
          json_builder_begin_array (b);
          for (uint32_t g = 0; g < seg->n_groups; g++)
            {
              json_builder_begin_array (b);
              for (uint32_t k = 0; k < seg->group_size; k++)
                json_builder_add_int_value (b, seg->devices[g * seg->group_size + k]);
              json_builder_end_array (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  g_autoptr (GError) local = NULL;
  if (!json_generator_to_file (gen, path, &local))
    {
      g_set_error (error, RG_ERROR, RG_ERROR_IO, "%s: cannot write plan: %s", path,
                   local->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- load ---- */

typedef struct {
  const char *path;
  GError    **error;
} Ctx;

static gboolean
fail (Ctx *c, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

static gboolean
fail (Ctx *c, const char *fmt, ...)
{
  va_list          ap;
  va_start (ap, fmt);
  g_autofree char *msg = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  g_set_error (c->error, RG_ERROR, RG_ERROR_CORRUPT, "%s: %s", c->path, msg);
  return FALSE;
}

static gboolean
get_int (Ctx *c, JsonObject *o, const char *name, int64_t lo, int64_t hi, int64_t *out)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return fail (c, "\"%s\" is missing or not an integer", name);
  int64_t v = json_node_get_int (n);
  if (v < lo || v > hi)
    return fail (c, "\"%s\" = %" G_GINT64_FORMAT " is outside %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
                 name, v, lo, hi);
  *out = v;
  return TRUE;
}

static JsonObject *
get_object (Ctx *c, JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_OBJECT (n))
    {
      fail (c, "\"%s\" is missing or not an object", name);
      return NULL;
    }
  return json_node_get_object (n);
}

static JsonArray *
get_array (Ctx *c, JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_ARRAY (n))
    {
      fail (c, "\"%s\" is missing or not an array", name);
      return NULL;
    }
  return json_node_get_array (n);
}

static const char *
get_string (Ctx *c, JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member (o, name);
  if (!n || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    {
      fail (c, "\"%s\" is missing or not a string", name);
      return NULL;
    }
  return json_node_get_string (n);
}

static gboolean
get_pair (Ctx *c, JsonObject *o, const char *name, int64_t *x, int64_t *y)
{
  JsonArray *a = get_array (c, o, name);
  if (!a)
    return FALSE;
  if (json_array_get_length (a) != 2)
    return fail (c, "\"%s\" must be [begin, end]", name);
  for (guint i = 0; i < 2; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
        return fail (c, "\"%s\" holds a non-integer", name);
    }
  *x = json_array_get_int_element (a, 0);
  *y = json_array_get_int_element (a, 1);
  if (*x < 0 || *y < *x || *y > RG_TRACE_MAX_ROWS)
    return fail (c, "\"%s\" = [%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] is not a range", name,
                 *x, *y);
  return TRUE;
}

static gboolean
load_segment (Ctx *c, RgShardPlan *plan, uint32_t t, JsonNode *node)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (c, "table %u: a segment is not an object", t);
  JsonObject *o = json_node_get_object (node);
  int64_t     rb, re, cb, ce;
  if (!get_pair (c, o, "rows", &rb, &re) || !get_pair (c, o, "cols", &cb, &ce))
    return FALSE;
  if (ce > 65536)
    return fail (c, "table %u: column %" G_GINT64_FORMAT " is out of range", t, ce);
  const char *tier = get_string (c, o, "tier");
  if (!tier)
    return FALSE;
  if (strcmp (tier, "fast") != 0 && strcmp (tier, "slow") != 0)
    return fail (c, "table %u: tier \"%s\" is neither fast nor slow", t, tier);
  JsonArray *groups = get_array (c, o, "groups");
  if (!groups)
    return FALSE;
  uint32_t world = rg_topology_world (&plan->topo);
  guint    n_groups = json_array_get_length (groups);
  if (n_groups < 1 || n_groups > world)
    return fail (c, "table %u: %u replica groups for %u devices", t, n_groups, world);
  guint              size = 0;
  g_autofree uint32_t *devs = NULL;
  for (guint g = 0; g < n_groups; g++)
    {
      JsonNode *gn = json_array_get_element (groups, g);
      if (!JSON_NODE_HOLDS_ARRAY (gn))
        return fail (c, "table %u: group %u is not an array", t, g);
      JsonArray *ga = json_node_get_array (gn);
      if (g == 0)
        {
          size = json_array_get_length (ga);
          if (size < 1 || size > world)
            return fail (c, "table %u: a group of %u devices in a world of %u", t, size, world);
          devs = g_new (uint32_t, (gsize) n_groups * size);
        }
      if (json_array_get_length (ga) != size)
        return fail (c, "table %u: replica groups differ in size", t);
      for (guint k = 0; k < size; k++)
        {
          JsonNode *dn = json_array_get_element (ga, k);
          if (!JSON_NODE_HOLDS_VALUE (dn) || json_node_get_value_type (dn) != G_TYPE_INT64)
            return fail (c, "table %u: a device is not an integer", t);
          int64_t d = json_node_get_int (dn);
          if (d < 0 || d >= world)
            return fail (c, "table %u: device %" G_GINT64_FORMAT " does not exist (world of %u)",
                         t, d, world);
          devs[g * size + k] = (uint32_t) d;
        }
    }
  rg_shard_plan_add (plan, t, rb, re, (uint32_t) cb, (uint32_t) ce,
                     tier[0] == 'f' ? RG_TIER_FAST : RG_TIER_SLOW, n_groups, size, devs);
  return TRUE;
}

static gboolean
load_table (Ctx *c, RgShardPlan *plan, uint32_t t, JsonNode *node)
{
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return fail (c, "table %u is not an object", t);
  JsonObject   *o = json_node_get_object (node);
  RgShardTable *tab = &plan->tables[t];
  int64_t       rows, dim, eb;
  if (!get_int (c, o, "rows", 1, RG_TRACE_MAX_ROWS, &rows)
      || !get_int (c, o, "dim", 1, 65536, &dim) || !get_int (c, o, "elem_bytes", 2, 4, &eb))
    return FALSE;
  tab->rows = rows;
  tab->dim = (uint32_t) dim;
  tab->elem_bytes = (uint32_t) eb;

  /* Only the type here: the remap is built once the whole plan has
   * validated (load_hot_rows), because it takes memory for every row and a
   * hostile "rows" must not get that far. */
  JsonNode *hot = json_object_get_member (o, "hot_rows");
  if (!hot || !(JSON_NODE_HOLDS_NULL (hot)
                || (JSON_NODE_HOLDS_VALUE (hot) && json_node_get_value_type (hot) == G_TYPE_STRING)))
    return fail (c, "table %u: \"hot_rows\" must be null or a base64 string", t);

  JsonArray *segs = get_array (c, o, "segments");
  if (!segs)
    return FALSE;
  guint n = json_array_get_length (segs);
  if (n < 1 || (uint64_t) n > (uint64_t) rows * dim)
    return fail (c, "table %u: %u segments", t, n);
  for (guint s = 0; s < n; s++)
    if (!load_segment (c, plan, t, json_array_get_element (segs, s)))
      return FALSE;
  return TRUE;
}

/* Decodes table t's "hot_rows" (already type-checked by load_table) into
 * its rank permutation. Called after rg_shard_plan_validate(), so `rows` is
 * the size of a plan whose segments really cover it; the allocation is
 * still tried, not assumed, since one such table can need gigabytes. */
static gboolean
load_hot_rows (Ctx *c, RgShardPlan *plan, uint32_t t, JsonNode *hot)
{
  if (JSON_NODE_HOLDS_NULL (hot))
    return TRUE;
  int64_t     rows = plan->tables[t].rows;
  const char *enc = json_node_get_string (hot);
  /* Bound the decoded size by the encoded length before decoding. */
  if ((uint64_t) strlen (enc) / 4 * 3 / 8 > (uint64_t) rows)
    return fail (c, "table %u: more hot rows than the table's %" G_GINT64_FORMAT, t, rows);
  gsize              len = 0;
  g_autofree guint8 *raw = g_base64_decode (enc, &len);
  if (len % 8 != 0)
    return fail (c, "table %u: hot_rows is not a list of 8-byte row ids", t);
  int64_t  k = (int64_t) (len / 8);
  int64_t *r = (uint64_t) rows <= G_MAXSIZE / sizeof (int64_t) ? g_try_new (int64_t, rows) : NULL;
  if (r == NULL)
    return fail (c, "table %u: no memory for the row remap of %" G_GINT64_FORMAT " rows", t, rows);
  for (int64_t i = 0; i < rows; i++)
    r[i] = -1;
  for (int64_t i = 0; i < k; i++)
    {
      uint64_t v = 0;
      for (int b = 7; b >= 0; b--)
        v = (v << 8) | raw[i * 8 + b];
      if (v >= (uint64_t) rows || r[v] >= 0)
        {
          g_free (r);
          return fail (c, "table %u: hot row %" G_GUINT64_FORMAT " is out of range or repeated",
                       t, v);
        }
      r[v] = i;
    }
  int64_t next = k;
  for (int64_t i = 0; i < rows; i++)
    if (r[i] < 0)
      r[i] = next++;
  rg_shard_plan_set_rank (plan, t, r);
  return TRUE;
}

RgShardPlan *
rg_shard_plan_load (const char *path, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_file (parser, path, &local))
    {
      gboolean missing = g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT);
      g_set_error (error, RG_ERROR, missing ? RG_ERROR_NOT_FOUND : RG_ERROR_CORRUPT,
                   "%s: cannot read plan: %s", path, local->message);
      return NULL;
    }
  Ctx       c = { path, error };
  JsonNode *root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (&c, "not a JSON object");
      return NULL;
    }
  JsonObject *o = json_node_get_object (root);
  const char *format = get_string (&c, o, "format");
  if (!format)
    return NULL;
  if (strcmp (format, PLAN_FORMAT) != 0)
    {
      fail (&c, "not a Reelgen shard plan (format \"%s\")", format);
      return NULL;
    }
  int64_t version;
  if (!get_int (&c, o, "version", 1, G_MAXINT32, &version))
    return NULL;
  if (version != PLAN_VERSION)
    {
      g_set_error (error, RG_ERROR, RG_ERROR_VERSION,
                   "%s: plan version %" G_GINT64_FORMAT "; this build reads version %d", path,
                   version, PLAN_VERSION);
      return NULL;
    }
  const char *scheme = get_string (&c, o, "scheme");
  JsonObject *topo = scheme ? get_object (&c, o, "topology") : NULL;
  JsonObject *cache = topo ? get_object (&c, o, "cache") : NULL;
  JsonArray  *tables = cache ? get_array (&c, o, "tables") : NULL;
  int64_t     nodes, dpn, fast, slow, cache_rows;
  if (!tables || !get_int (&c, topo, "nodes", 1, RG_SHARD_MAX_DEVICES, &nodes)
      || !get_int (&c, topo, "devices_per_node", 1, RG_SHARD_MAX_DEVICES, &dpn)
      || !get_int (&c, topo, "fast_bytes", 0, G_MAXINT64, &fast)
      || !get_int (&c, topo, "slow_bytes", 0, G_MAXINT64, &slow)
      || !get_int (&c, cache, "rows", 0, RG_TRACE_MAX_ROWS, &cache_rows))
    return NULL;
  const char *policy = get_string (&c, cache, "policy");
  if (!policy)
    return NULL;
  int kind = -1;
  for (int i = 0; i < 3; i++)
    if (strcmp (policy, cache_names[i]) == 0)
      kind = i;
  if (kind < 0)
    {
      fail (&c, "cache policy \"%s\" is not none, lru or lfu", policy);
      return NULL;
    }
  RgTopology t = { (uint32_t) nodes, (uint32_t) dpn, (uint64_t) fast, (uint64_t) slow };
  if (nodes * dpn > RG_SHARD_MAX_DEVICES)
    {
      fail (&c, "%" G_GINT64_FORMAT " × %" G_GINT64_FORMAT " devices is too many", nodes, dpn);
      return NULL;
    }
  guint n_tables = json_array_get_length (tables);
  if (n_tables < 1 || n_tables > RG_TRACE_MAX_TABLES)
    {
      fail (&c, "%u tables", n_tables);
      return NULL;
    }
  g_autofree RgTableSpec *specs = g_new0 (RgTableSpec, n_tables);
  g_autoptr (RgShardPlan) plan = rg_shard_plan_new (scheme, &t, specs, n_tables);
  plan->cache = (RgShardCacheKind) kind;
  plan->cache_rows = cache_rows;
  for (guint i = 0; i < n_tables; i++)
    if (!load_table (&c, plan, i, json_array_get_element (tables, i)))
      return NULL;
  g_autoptr (GError) bad = NULL;
  if (!rg_shard_plan_validate (plan, &bad))
    {
      fail (&c, "%s", bad->message);
      return NULL;
    }
  for (guint i = 0; i < n_tables; i++)
    {
      JsonObject *to = json_node_get_object (json_array_get_element (tables, i));
      if (!load_hot_rows (&c, plan, i, json_object_get_member (to, "hot_rows")))
        return NULL;
    }
  return g_steal_pointer (&plan);
}
