/* detect.c — the detection engine: options, findings, windows, dispatch,
 * finish and merge.  The rules themselves are in core/rules/ (rule.h).
 *
 * Every verdict is a pure function of one closed window's final counts (or,
 * for series rules, of the whole capture), and a flag is the fold of its
 * verdicts with min/max/union, which is associative and commutative.  That
 * is what makes merging slices exact.
 *
 * Windows run on packet time (abs_ns), never on the wall clock: epoch-
 * aligned tumbling windows in two phases offset by half a window, so any
 * burst shorter than half a window lies wholly inside one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NO_INDEX     G_MININT64
#define MAX_CLAUSES  8           /* distinct filter clauses before falling back */
#define MAX_RULES    32
#define RECOUNT_PACKETS 65536   /* the fewest packets between full counts of the state */
#define RECOUNT_FULL    8192    /* the same over the budget, where kept keys grow into it */
#define FEW_KEYS     64          /* keys a rule tracks even past the budget: a new flood's target */
#define SHED_TO      0.75        /* of the budget, what shedding leaves: room to grow until the next count */

/* ------------------------------------------------------------------ */
/* Options: the engine's own, then every rule's, laid out in cfg->rules */

static const char *const preset_values[] = { "default", "seed", NULL };

#define OFF(field) offsetof(TrafanDetectConfig, field)
static const TrafanDetectOption engine_options[] = {
    { "preset", "Threshold preset",
      "default: thresholds for real networks; seed: the classic naive rules (packet_rate 50 packets in 10 s, bandwidth 2000 bytes/s per 1 s); options after it override it",
      TRAFAN_OPT_ENUM, OFF(preset), "default", preset_values, 0, 0, NULL, NULL },
    { "allowlist", "Allowlist",
      "Addresses and CIDR prefixes (IPv4 or IPv6) never flagged as source, separated by ; | , or spaces; default empty",
      TRAFAN_OPT_STRING, OFF(allowlist), "", NULL, 0, 0, NULL, NULL },
};
static const TrafanDetectOption limit_options[] = {
    { "exact_cap", "Exact set size",
      "Distinct items kept exactly per counter, past which a 256-byte HyperLogLog sketch (about 6.5 % error) counts them and flags say approximate; default 1024",
      TRAFAN_OPT_UINT, OFF(exact_cap), "1024", NULL, 16, 16777216, NULL, NULL },
    { "max_tracked", "Tracked keys",
      "Hosts, pairs or flows tracked per rule and window; later ones are refused (and the rule's flags say approximate), which bounds each rule's memory; default 100000",
      TRAFAN_OPT_UINT, OFF(max_tracked), "100000", NULL, 16, 4294967295.0, NULL, NULL },
    { "max_state_mb", "Detection memory (MB)",
      "Memory for all rules' windows and series together (counted with their sets' items); past it no rule that tracks 64 keys or more takes a new one until there is room, the rules holding the most drop their keys with the least evidence (fewest items and packets counted) down to 3/4 of it, and every flag of a rule that refused or dropped keys says approximate; default 64, which keeps a spoofed flood's detection below what Wireshark's conversation and endpoint tables take",
      TRAFAN_OPT_UINT, OFF(max_state_mb), "64", NULL, 1, 1048576, NULL, NULL },
};
#undef OFF

static TrafanDetectOption *all_options;
static guint n_all_options;
static gsize rule_base[MAX_RULES];      /* each rule's config within cfg->rules */

static void
add_options(GArray *to, const TrafanDetectOption *o, guint n, gsize base, const char *rule)
{
    for (guint i = 0; i < n; i++) {
        TrafanDetectOption copy = o[i];
        copy.offset += base;
        copy.rule = rule;
        g_array_append_val(to, copy);
    }
}

static void
build_options(void)
{
    static gsize done;
    if (!g_once_init_enter(&done))
        return;
    GArray *all = g_array_new(FALSE, FALSE, sizeof(TrafanDetectOption));
    gsize used = 0;
    g_assert(trafan_n_rules <= MAX_RULES);
    add_options(all, engine_options, G_N_ELEMENTS(engine_options), 0, NULL);
    for (guint r = 0; r < trafan_n_rules; r++) {
        const TrafanRule *rule = trafan_rules[r];
        rule_base[r] = used;
        add_options(all, rule->options, rule->n_options,
                    offsetof(TrafanDetectConfig, rules) + used, rule->name);
        used += (rule->config_size + 7) & ~(gsize)7;
    }
    g_assert(used <= sizeof(((TrafanDetectConfig *)0)->rules));
    add_options(all, limit_options, G_N_ELEMENTS(limit_options), 0, NULL);
    n_all_options = all->len;
    all_options = (TrafanDetectOption *)g_array_free(all, FALSE);
    g_once_init_leave(&done, 1);
}

const TrafanDetectOption *
trafan_detect_options(guint *n)
{
    build_options();
    if (n)
        *n = n_all_options;
    return all_options;
}

static const void *
rule_config(const TrafanDetectConfig *cfg, guint r)
{
    return (const guint8 *)cfg->rules + rule_base[r];
}

/* ------------------------------------------------------------------ */
/* Allowlist                                                            */

typedef struct {
    TrafanAddress net;
    guint         bits;
} Prefix;

static gboolean
prefix_match(const Prefix *p, const TrafanAddress *a)
{
    guint whole = p->bits / 8, rest = p->bits % 8;

    if (p->net.family != a->family || memcmp(p->net.bytes, a->bytes, whole) != 0)
        return FALSE;
    if (rest == 0)
        return TRUE;
    guint8 mask = (guint8)(0xff << (8 - rest));
    return (p->net.bytes[whole] & mask) == (a->bytes[whole] & mask);
}

static gboolean
parse_allowlist(const char *text, GArray **out, GError **error)
{
    GArray *prefixes = g_array_new(FALSE, TRUE, sizeof(Prefix));
    char **words = g_strsplit_set(text ? text : "", ",| \t\r\n;", -1);

    for (char **w = words; *w; w++) {
        if (**w == '\0')
            continue;
        Prefix p = { { 0 }, 0 };
        char *slash = strchr(*w, '/');
        if (slash)
            *slash = '\0';
        gboolean ok = trafan_address_parse(*w, &p.net);
        guint max_bits = p.net.family == 4 ? 32 : 128;
        guint64 bits = max_bits;
        if (ok && slash)
            ok = g_ascii_string_to_unsigned(slash + 1, 10, 0, max_bits, &bits, NULL);
        if (!ok) {
            if (slash)
                *slash = '/';
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option allowlist: '%s' is not an IPv4 or IPv6 address "
                        "or CIDR prefix (e.g. 192.0.2.0/24, 2001:db8::/32)", *w);
            g_strfreev(words);
            g_array_unref(prefixes);
            return FALSE;
        }
        p.bits = (guint)bits;
        g_array_append_val(prefixes, p);
    }
    g_strfreev(words);
    *out = prefixes;
    return TRUE;
}

static const TrafanDetectOption *
find_option(const char *name)
{
    build_options();
    for (guint i = 0; i < n_all_options; i++)
        if (g_ascii_strcasecmp(all_options[i].name, name) == 0)
            return &all_options[i];
    return NULL;
}

/* A list of ports: numbers from 0 to 65535 separated by ; | , or spaces. */
static gboolean
parse_ports(const char *text, GError **error, const char *option)
{
    char **words = g_strsplit_set(text, ";|, \t", -1);
    gboolean ok = TRUE;
    for (char **w = words; *w && ok; w++) {
        if (**w && !g_ascii_string_to_unsigned(*w, 10, 0, 65535, NULL, NULL)) {
            char *shown = g_strescape(*w, NULL);
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: '%s' is not a port (0 to 65535; ports are separated by ; | , or spaces)",
                        option, shown);
            g_free(shown);
            ok = FALSE;
        }
    }
    g_strfreev(words);
    return ok;
}

gboolean
trafan_port_listed(const char *list, guint16 port)
{
    for (const char *p = list; *p;) {
        while (*p && !g_ascii_isdigit(*p))
            p++;
        if (!*p)
            break;
        guint v = 0;
        for (; g_ascii_isdigit(*p); p++)
            v = MIN(v * 10 + (guint)(*p - '0'), 65536u);
        if (v == port)
            return TRUE;
    }
    return FALSE;
}

TrafanPortSet *
trafan_port_set_new(const char *list)
{
    TrafanPortSet *set = g_new0(TrafanPortSet, 1);
    for (const char *p = list; *p;) {
        if (!g_ascii_isdigit(*p)) {
            p++;
            continue;
        }
        guint v = 0;
        for (; g_ascii_isdigit(*p); p++)
            v = MIN(v * 10 + (guint)(*p - '0'), 65536u);
        if (v < 65536)
            set->bits[v / 64] |= G_GUINT64_CONSTANT(1) << (v % 64);
    }
    return set;
}

static void
set_from_text(TrafanDetectConfig *cfg, const TrafanDetectOption *o, const char *text)
{
    char *field = (char *)cfg + o->offset;
    if (o->type == TRAFAN_OPT_UINT)
        *(guint *)field = (guint)g_ascii_strtoull(text, NULL, 10);
    else if (o->type == TRAFAN_OPT_DOUBLE)
        *(double *)field = g_ascii_strtod(text, NULL);
    else if (o->type == TRAFAN_OPT_PORTS)
        g_strlcpy(field, text, TRAFAN_OPTION_TEXT_MAX);
}

/* A preset resets every threshold to its value under that preset. */
static void
apply_preset(TrafanDetectConfig *cfg, guint preset)
{
    build_options();
    for (guint i = 0; i < n_all_options; i++) {
        const TrafanDetectOption *o = &all_options[i];
        set_from_text(cfg, o, preset == TRAFAN_PRESET_SEED && o->seed_text ? o->seed_text : o->default_text);
    }
    cfg->preset = preset;
}

void
trafan_detect_config_init(TrafanDetectConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    apply_preset(cfg, TRAFAN_PRESET_DEFAULT);
    cfg->allowlist = g_strdup("");
    cfg->allow_prefixes = g_array_new(FALSE, TRUE, sizeof(Prefix));
}

void
trafan_detect_config_clear(TrafanDetectConfig *cfg)
{
    g_clear_pointer(&cfg->allowlist, g_free);
    g_clear_pointer(&cfg->allow_prefixes, g_array_unref);
}

void
trafan_detect_config_copy(TrafanDetectConfig *to, const TrafanDetectConfig *from)
{
    *to = *from;
    to->allowlist = g_strdup(from->allowlist ? from->allowlist : "");
    to->allow_prefixes = from->allow_prefixes ? g_array_copy(from->allow_prefixes)
                                              : g_array_new(FALSE, TRUE, sizeof(Prefix));
}

static char *
option_text(const TrafanDetectConfig *cfg, const TrafanDetectOption *o)
{
    const char *field = (const char *)cfg + o->offset;
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    switch (o->type) {
    case TRAFAN_OPT_UINT:   return g_strdup_printf("%u", *(const guint *)field);
    case TRAFAN_OPT_DOUBLE: return g_strdup(g_ascii_dtostr(num, sizeof num, *(const double *)field));
    case TRAFAN_OPT_BOOL:   return g_strdup(*(const gboolean *)field ? "true" : "false");
    case TRAFAN_OPT_ENUM:   return g_strdup(o->enum_values[*(const guint *)field]);
    case TRAFAN_OPT_STRING: return g_strdup(*(char *const *)field ? *(char *const *)field : "");
    case TRAFAN_OPT_PORTS:  return g_strdup(field);
    }
    return NULL;
}

char *
trafan_detect_config_get(const TrafanDetectConfig *cfg, const char *name)
{
    const TrafanDetectOption *o = find_option(name);
    return o ? option_text(cfg, o) : NULL;
}

char *
trafan_detect_config_describe(const TrafanDetectConfig *cfg)
{
    GString *s = g_string_new(NULL);
    build_options();
    for (guint i = 0; i < n_all_options; i++) {
        char *v = option_text(cfg, &all_options[i]);
        g_string_append_printf(s, "%s=%s\n", all_options[i].name, v);
        g_free(v);
    }
    return g_string_free(s, FALSE);
}

static char *
range_text(const TrafanDetectOption *o)
{
    char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lo, sizeof lo, "%.15g", o->min_value);
    g_ascii_formatd(hi, sizeof hi, "%.15g", o->max_value);
    return g_strdup_printf("%s %s to %s", o->type == TRAFAN_OPT_UINT ? "an integer from" : "a number from",
                           lo, hi);
}

gboolean
trafan_detect_config_set(TrafanDetectConfig *cfg, const char *name, const char *value,
                         GError **error)
{
    const TrafanDetectOption *o = name ? find_option(name) : NULL;

    if (o == NULL) {
        GString *names = g_string_new(NULL);
        for (guint i = 0; i < n_all_options; i++)
            g_string_append_printf(names, "%s%s", i ? ", " : "", all_options[i].name);
        char *shown = g_strescape(name ? name : "", NULL);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                    "unknown trafan option '%s' (valid: %s)", shown, names->str);
        g_free(shown);
        g_string_free(names, TRUE);
        return FALSE;
    }
    if (value == NULL)
        value = "";
    char *field = (char *)cfg + o->offset;
    char *stripped = g_strstrip(g_strdup(value));
    char *shown = g_strescape(value, NULL);
    gboolean ok = TRUE;

    switch (o->type) {
    case TRAFAN_OPT_UINT: {
        guint64 v;
        ok = g_ascii_string_to_unsigned(stripped, 10, (guint64)o->min_value,
                                        (guint64)o->max_value, &v, NULL);
        if (ok)
            *(guint *)field = (guint)v;
        break;
    }
    case TRAFAN_OPT_DOUBLE: {
        char *end = NULL;
        double v = g_ascii_strtod(stripped, &end);
        ok = *stripped && end && *end == '\0' && isfinite(v) &&
             v >= o->min_value && v <= o->max_value;
        if (ok)
            *(double *)field = v;
        break;
    }
    case TRAFAN_OPT_BOOL: {
        static const char *const yes[] = { "1", "true", "yes", "on" };
        static const char *const no[] = { "0", "false", "no", "off" };
        ok = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
            if (g_ascii_strcasecmp(stripped, yes[i]) == 0)
                *(gboolean *)field = TRUE, ok = TRUE;
            if (g_ascii_strcasecmp(stripped, no[i]) == 0)
                *(gboolean *)field = FALSE, ok = TRUE;
        }
        if (!ok)
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: '%s' is not a boolean (true/false)", o->name, shown);
        break;
    }
    case TRAFAN_OPT_ENUM: {
        ok = FALSE;
        for (guint i = 0; o->enum_values[i]; i++) {
            if (g_ascii_strcasecmp(stripped, o->enum_values[i]) == 0) {
                ok = TRUE;
                if (o->offset == offsetof(TrafanDetectConfig, preset))
                    apply_preset(cfg, i);
                else
                    *(guint *)field = i;
            }
        }
        if (!ok) {
            char *list = g_strjoinv(", ", (char **)o->enum_values);
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: '%s' is not one of: %s", o->name, shown, list);
            g_free(list);
        }
        break;
    }
    case TRAFAN_OPT_STRING: {
        GArray *prefixes = NULL;
        ok = parse_allowlist(stripped, &prefixes, error);
        if (ok) {
            g_free(cfg->allowlist);
            cfg->allowlist = g_strdup(stripped);
            if (cfg->allow_prefixes)
                g_array_unref(cfg->allow_prefixes);
            cfg->allow_prefixes = prefixes;
        }
        break;
    }
    case TRAFAN_OPT_PORTS:
        ok = strlen(stripped) < TRAFAN_OPTION_TEXT_MAX && parse_ports(stripped, error, o->name);
        if (ok)
            g_strlcpy(field, stripped, TRAFAN_OPTION_TEXT_MAX);
        else if (error && *error == NULL)
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: the list is longer than %d characters", o->name,
                        TRAFAN_OPTION_TEXT_MAX - 1);
        break;
    }
    if (!ok && (o->type == TRAFAN_OPT_UINT || o->type == TRAFAN_OPT_DOUBLE)) {
        char *range = range_text(o);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "trafan option %s: '%s' is not %s", o->name, shown, range);
        g_free(range);
    }
    g_free(shown);
    g_free(stripped);
    return ok;
}

static gboolean
same_config(const TrafanDetectConfig *a, const TrafanDetectConfig *b)
{
    char *x = trafan_detect_config_describe(a), *y = trafan_detect_config_describe(b);
    gboolean same = strcmp(x, y) == 0;
    g_free(x);
    g_free(y);
    return same;
}

/* ------------------------------------------------------------------ */
/* Small tools rules use                                                */

gint64
trafan_floor_div(gint64 a, gint64 b)
{
    gint64 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

gint64
trafan_seconds_ns(double s)
{
    return MAX((gint64)llround(s * TRAFAN_NS_PER_S), 1);
}

double
trafan_cv(double n, double sum, double sumsq, double *mean)
{
    long double ln = n, ls = sum, lq = sumsq;
    *mean = n > 0 ? sum / n : 0;
    if (n <= 0 || *mean <= 0)
        return n > 0 && sum == 0 ? 0 : INFINITY;
    long double var = (ln * lq - ls * ls) / (ln * ln);
    return (double)(sqrtl(MAX(var, 0.0L)) / (ls / ln));
}

gboolean
trafan_is_group(const TrafanAddress *a)
{
    static const guint8 broadcast[4] = { 255, 255, 255, 255 };
    if (a->family == 4)
        return (a->bytes[0] >= 224 && a->bytes[0] <= 239) || memcmp(a->bytes, broadcast, 4) == 0;
    return a->family == 6 && a->bytes[0] == 0xff;
}

/* Ports that answer small requests with large responses (the usual
 * amplification vectors). */
static gboolean
reflector_port(guint16 port)
{
    switch (port) {
    case 17: case 19: case 53: case 69: case 111: case 123: case 137: case 161: case 389:
    case 500: case 520: case 1900: case 3283: case 3702: case 4500: case 5353: case 5683:
    case 11211:
        return TRUE;
    }
    return FALSE;
}

gboolean
trafan_udp_is_response(guint16 sport, guint16 dport)
{
    return reflector_port(sport) || (sport < 1024 && dport >= 1024);
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */

const char *
trafan_addr_text(const TrafanAddress *a, char buf[TRAFAN_ADDRSTRLEN])
{
    return trafan_address_to_str(a, buf);
}

const char *
trafan_ipf(const TrafanAddress *a)
{
    return a->family == 6 ? "ipv6" : "ip";
}

char *
trafan_fmt_number(char *buf, size_t size, double v)
{
    const char *fmt = v >= 100 || v == floor(v) ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3g";
    return g_ascii_formatd(buf, size, fmt, v);
}

/* "3.2 s" */
char *
trafan_fmt_secs(char buf[48], gint64 ns)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    trafan_fmt_number(num, sizeof num, MAX(ns, 0) / TRAFAN_NS_PER_S);
    g_snprintf(buf, 48, "%s s", num);
    return buf;
}

/* "1.6 MB" (decimal units, like Wireshark's statistics) */
char *
trafan_fmt_bytes(char buf[48], double bytes)
{
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
    guint u = 0;
    while (bytes >= 1000 && u + 1 < G_N_ELEMENTS(unit)) {
        bytes /= 1000;
        u++;
    }
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(num, sizeof num, u ? "%.1f" : "%.0f", bytes);
    g_snprintf(buf, 48, "%s %s", num, unit[u]);
    return buf;
}

/* ------------------------------------------------------------------ */
/* Findings                                                             */

/* The fold of the verdicts for one (host, role, rule): start = min, end =
 * max, peers = per-peer max, clauses = union, the rest from the worst verdict
 * (largest observed, then earliest).  Associative and commutative. */
typedef struct {
    TrafanAddress host;
    TrafanRole    role;
    guint         rule;
    gint64        start, end, window_ns, worst_start;
    double        observed, threshold;
    gboolean      approximate;
    guint64       peers_total;
    GHashTable   *peers;        /* TrafanAddress * -> TrafanTally *, max count */
    GPtrArray    *clauses;      /* sorted distinct strings */
    gboolean      clauses_overflow;
    char         *detail, *broad;
    TrafanFlag   *flag;         /* public view (output findings only) */
    gboolean      dirty;
} Finding;

static Finding *
finding_new(const TrafanAddress *host, TrafanRole role, guint rule)
{
    Finding *f = g_new0(Finding, 1);
    f->host = *host;
    f->role = role;
    f->rule = rule;
    f->start = G_MAXINT64;
    f->end = G_MININT64;
    f->observed = -1;
    f->worst_start = G_MAXINT64;
    f->peers = g_hash_table_new_full(trafan_item_hash, trafan_item_equal, NULL, g_free);
    f->clauses = g_ptr_array_new_with_free_func(g_free);
    return f;
}

static void
finding_free(gpointer p)
{
    Finding *f = p;
    g_hash_table_unref(f->peers);
    g_ptr_array_unref(f->clauses);
    g_free(f->detail);
    g_free(f->broad);
    trafan_flag_free(f->flag);
    g_free(f);
}

static GHashTable *
findings_new(void)
{
    return g_hash_table_new_full(trafan_key_hash, trafan_key_equal, g_free, finding_free);
}

static void
fold_peer(Finding *f, const TrafanAddress *peer, guint64 count, guint cap)
{
    TrafanTally *t = g_hash_table_lookup(f->peers, peer);
    if (t) {
        t->count = MAX(t->count, count);
    } else if (g_hash_table_size(f->peers) < cap) {
        t = g_new(TrafanTally, 1);
        t->item = *peer;
        t->count = count;
        g_hash_table_insert(f->peers, &t->item, t);
    }
}

static void
fold_clause(Finding *f, const char *clause)
{
    if (clause == NULL || f->clauses_overflow)
        return;
    for (guint i = 0; i < f->clauses->len; i++)
        if (strcmp(f->clauses->pdata[i], clause) == 0)
            return;
    if (f->clauses->len >= MAX_CLAUSES) {
        f->clauses_overflow = TRUE;
        g_ptr_array_set_size(f->clauses, 0);
        return;
    }
    g_ptr_array_add(f->clauses, g_strdup(clause));
}

static int
str_ptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fold the "worst" fields of another fold or verdict. */
static void
fold_worst(Finding *f, double observed, gint64 start, double threshold, gint64 window_ns,
           const char *detail, const char *broad)
{
    if (observed > f->observed || (observed == f->observed && start < f->worst_start)) {
        f->observed = observed;
        f->worst_start = start;
        f->threshold = threshold;
        f->window_ns = window_ns;
        g_free(f->detail);
        f->detail = g_strdup(detail);
        g_free(f->broad);
        f->broad = g_strdup(broad);
    }
}

static void
finding_fold(Finding *f, const Finding *g, guint cap)
{
    f->start = MIN(f->start, g->start);
    f->end = MAX(f->end, g->end);
    f->approximate |= g->approximate;
    f->peers_total = MAX(f->peers_total, g->peers_total);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->peers);
    while (g_hash_table_iter_next(&it, NULL, &v))
        fold_peer(f, &((TrafanTally *)v)->item, ((TrafanTally *)v)->count, cap);
    if (g->clauses_overflow && !f->clauses_overflow) {
        f->clauses_overflow = TRUE;
        g_ptr_array_set_size(f->clauses, 0);
    }
    for (guint i = 0; i < g->clauses->len; i++)
        fold_clause(f, g->clauses->pdata[i]);
    g_ptr_array_sort(f->clauses, str_ptr_compare);
    fold_worst(f, g->observed, g->worst_start, g->threshold, g->window_ns, g->detail, g->broad);
    f->dirty = TRUE;
}

static void
fold_verdict(Finding *f, const TrafanVerdict *v, guint cap)
{
    f->start = MIN(f->start, v->start);
    f->end = MAX(f->end, v->end);
    f->approximate |= v->approximate;
    f->peers_total = MAX(f->peers_total, v->peers_total);
    for (guint i = 0; i < v->n_peers; i++)
        fold_peer(f, &v->peers[i].item, v->peers[i].count, cap);
    fold_clause(f, v->clause);
    g_ptr_array_sort(f->clauses, str_ptr_compare);
    fold_worst(f, v->observed, v->start, v->threshold, v->window_ns, v->detail, v->broad);
    f->dirty = TRUE;
}

static Finding *
findings_get(GHashTable *map, const TrafanAddress *host, TrafanRole role, guint rule,
             gboolean *created)
{
    TrafanKey k = trafan_key(host, NULL, (guint8)role, (guint16)rule);
    Finding *f = g_hash_table_lookup(map, &k);
    if (created)
        *created = f == NULL;
    if (f == NULL) {
        f = finding_new(host, role, rule);
        g_hash_table_insert(map, g_memdup2(&k, sizeof k), f);
    }
    return f;
}

/* ------------------------------------------------------------------ */
/* Aggregates, from their field lists                                   */

static void
agg_init(const TrafanAggClass *cls, gpointer p)
{
    guint8 *a = p;
    memset(a, 0, cls->size);
    for (guint i = 0; i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        gint64 *v = (gint64 *)(a + f->offset);
        for (guint k = 0; k < f->n; k++) {
            if (f->kind == TRAFAN_AGG_FIRST)
                v[k] = G_MAXINT64;
            else if (f->kind == TRAFAN_AGG_LAST)
                v[k] = G_MININT64;
        }
    }
}

static void
agg_clear(const TrafanAggClass *cls, gpointer p)
{
    guint8 *a = p;
    for (guint i = 0; i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        for (guint k = 0; k < f->n; k++) {
            if (f->kind == TRAFAN_AGG_DISTINCT)
                trafan_distinct_clear((TrafanDistinct *)(a + f->offset) + k);
            else if (f->kind == TRAFAN_AGG_COUNTS)
                g_clear_pointer((TrafanCounts **)(a + f->offset) + k, trafan_counts_free);
        }
    }
}

static void
agg_merge(const TrafanAggClass *cls, gpointer into, gconstpointer from, guint cap)
{
    for (guint i = 0; i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        for (guint k = 0; k < f->n; k++) {
            if (f->kind == TRAFAN_AGG_DISTINCT) {
                trafan_distinct_merge((TrafanDistinct *)((guint8 *)into + f->offset) + k,
                                      (const TrafanDistinct *)((const guint8 *)from + f->offset) + k, cap);
                continue;
            }
            if (f->kind == TRAFAN_AGG_COUNTS) {
                trafan_counts_merge((TrafanCounts **)((guint8 *)into + f->offset) + k,
                                    ((TrafanCounts *const *)((const guint8 *)from + f->offset))[k]);
                continue;
            }
            guint64 *x = (guint64 *)((guint8 *)into + f->offset) + k;
            guint64 y = ((const guint64 *)((const guint8 *)from + f->offset))[k];
            switch (f->kind) {
            case TRAFAN_AGG_COUNT: *x += y; break;
            case TRAFAN_AGG_BITS:  *x |= y; break;
            case TRAFAN_AGG_FIRST: *(gint64 *)x = MIN(*(gint64 *)x, (gint64)y); break;
            case TRAFAN_AGG_LAST:  *(gint64 *)x = MAX(*(gint64 *)x, (gint64)y); break;
            default: break;
            }
        }
    }
}

static gsize
agg_bytes(const TrafanAggClass *cls, gconstpointer p)
{
    gsize n = cls->size;
    for (guint i = 0; i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        for (guint k = 0; k < f->n; k++) {
            if (f->kind == TRAFAN_AGG_DISTINCT)
                n += trafan_distinct_bytes((const TrafanDistinct *)((const guint8 *)p + f->offset) + k);
            else if (f->kind == TRAFAN_AGG_COUNTS && ((TrafanCounts *const *)((const guint8 *)p + f->offset))[k]) {
                const TrafanCounts *c = ((TrafanCounts *const *)((const guint8 *)p + f->offset))[k];
                n += sizeof *c + trafan_distinct_bytes(&c->exact) +
                     (c->cells ? sizeof(guint32[TRAFAN_COUNTS_DEPTH][TRAFAN_COUNTS_WIDTH]) : 0);
            }
        }
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* The detector                                                         */

typedef struct WindowSet WindowSet;

/* Epoch-aligned tumbling windows of one phase. */
typedef struct {
    WindowSet  *set;
    gint64      offset;
    gint64      index;          /* the open window, or NO_INDEX */
    gint64      head_index;     /* this detector's first window, or NO_INDEX */
    GHashTable *head;           /* the first window once closed, kept for merge (entries) */
    GHashTable *head_findings;  /* verdicts of that first window */
    gint64      bounds_index, bounds_start, bounds_end;    /* most packets fall in the open window */
} Window;

/* A key's aggregates in both phases: a packet counts in both, so one
 * allocation and one lookup serve both.  Bit ph of `live` is set while
 * phase ph's aggregate may hold something; an entry with neither goes.  A
 * kept first window (Window.head) is made of the same entries, its phase
 * live.  The aggregates follow the entry, each in AGG_SPACE(set). */
typedef struct {
    TrafanKey key;
    guint     live;
} Entry;

/* The windows of one rule, or of several rules that count the same thing
 * over the same length (packet_rate and bandwidth by default). */
struct WindowSet {
    const TrafanAggClass *agg;
    gint64          length;
    Window          phase[2];
    GHashTable     *open;       /* TrafanKey -> Entry: both phases' open windows */
    gpointer        blank;      /* an empty aggregate, copied into new entries */
    TrafanRuleCtx  *judges[MAX_RULES];
    guint           n_judges;
    /* A conversation's packets, both ways, hit the same two entries in a row. */
    TrafanKey       recent_key[2];
    Entry          *recent[2];  /* NULL: empty slot */
    guint           recent_next;
};

struct TrafanDetector {
    TrafanDetectConfig cfg;
    gboolean  seen, finished;
    gboolean  one_pass;         /* never saved nor merged: first windows not kept */
    gint64    now;              /* latest packet time seen (the clock) */
    gint64    first_ns, ref_ns; /* first time, and abs - rel of the first packet */
    guint64   refused[MAX_RULES];   /* keys a rule could not track (max_tracked, max_state_mb) */
    gsize     budget;               /* max_state_mb in bytes */
    gboolean  full;                 /* over the budget: no new keys */
    gint64    next_edge;            /* the earliest end of an open window (G_MININT64: unknown) */
    guint     adds;                 /* keys made since the budget was checked */
    gsize     counted_keys, counted_bytes;  /* the last full count (state_estimate) */
    gsize     since_count;              /* packets since budget_recount */

    TrafanRuleCtx  rules[MAX_RULES];
    WindowSet      sets[MAX_RULES];
    guint          n_sets;
    WindowSet     *set_of[MAX_RULES];   /* NULL for series rules */
    TrafanRuleCtx *observers[TRAFAN_N_EVENTS][MAX_RULES];
    guint          n_observers[TRAFAN_N_EVENTS];

    GHashTable *judging_into;   /* where verdicts go now */
    const Window *judging;      /* the window being judged, in its set's open entries */
    GHashTable *body;           /* findings from windows other than the first */
    GHashTable *output;         /* everything: what flags show */
    GHashTable *previews;       /* early alerts from open windows (peek) */
    gboolean    peeking;        /* judging open windows for previews */
    GPtrArray  *fresh;          /* TrafanFlag * raised since take_new */
    GPtrArray  *fresh_out;
    GPtrArray  *sorted;         /* finish() result */
};

static gboolean
allowlisted(const TrafanDetector *d, const TrafanAddress *a)
{
    const GArray *list = d->cfg.allow_prefixes;
    for (guint i = 0; list && i < list->len; i++)
        if (prefix_match(&g_array_index(list, Prefix, i), a))
            return TRUE;
    return FALSE;
}

guint
trafan_exact_cap(const TrafanRuleCtx *ctx)
{
    /* Over the memory budget the counters kept stop growing too: past the
     * items an array holds, only their sketches count (and their flags say
     * approximate). */
    const TrafanDetector *d = ctx->detector;
    return d->full ? MIN(d->cfg.exact_cap, TRAFAN_DISTINCT_SMALL) : d->cfg.exact_cap;
}

gint64
trafan_ref_ns(const TrafanRuleCtx *ctx)
{
    return ctx->detector->ref_ns;
}

static void budget_check(TrafanDetector *d);
static void budget_recount(TrafanDetector *d);

gboolean
trafan_rule_may_track(TrafanRuleCtx *ctx, guint current_keys)
{
    TrafanDetector *d = ctx->detector;
    if (current_keys < d->cfg.max_tracked && (!d->full || current_keys < FEW_KEYS)) {
        if (++d->adds % 64 == 0)
            budget_check(d);
        return TRUE;
    }
    d->refused[ctx->index]++;
    return FALSE;
}

void
trafan_emit(TrafanRuleCtx *ctx, TrafanVerdict *v)
{
    TrafanDetector *d = ctx->detector;
    guint cap = d->cfg.exact_cap, rule = ctx->index;
    const char *name = ctx->rule->name;
    gboolean created;

    if (ctx->rule->judge)
        v->window_ns = ctx->window_ns;
    v->approximate |= d->refused[rule] > 0;     /* it may have missed keys */
    if (v->role == TRAFAN_ROLE_SOURCE && allowlisted(d, &v->host))
        goto out;
    if (d->peeking) {
        /* A window still open already over its threshold: alert now, once,
         * without touching the state that merges. */
        TrafanKey k = trafan_key(&v->host, NULL, (guint8)v->role, (guint16)rule);
        if (g_hash_table_contains(d->output, &k))
            goto out;
        Finding *p = findings_get(d->previews, &v->host, v->role, rule, &created);
        if (created) {
            fold_verdict(p, v, cap);
            p->flag = trafan_flag_new(&p->host, p->role, name);
            g_ptr_array_add(d->fresh, p->flag);
        }
        goto out;
    }
    fold_verdict(findings_get(d->judging_into, &v->host, v->role, rule, NULL), v, cap);
    Finding *f = findings_get(d->output, &v->host, v->role, rule, &created);
    fold_verdict(f, v, cap);
    if (created) {
        TrafanKey k = trafan_key(&v->host, NULL, (guint8)v->role, (guint16)rule);
        f->flag = trafan_flag_new(&f->host, f->role, name);
        if (!g_hash_table_contains(d->previews, &k))    /* not alerted early */
            g_ptr_array_add(d->fresh, f->flag);
    }
out:
    g_free(v->detail);
    g_free(v->clause);
    g_free(v->broad);
}

/* Tables of entries (TrafanKey -> Entry); the key frees its entry, after
 * the aggregates' counters were cleared. */
static GHashTable *
window_table(void)
{
    return g_hash_table_new_full(trafan_key_hash, trafan_key_equal, g_free, NULL);
}

#define ENTRY_SPACE   ((sizeof(Entry) + 7) & ~(gsize)7)
#define AGG_SPACE(set) (((set)->agg->size + 7) & ~(gsize)7)
#define PHASE_BIT(ph) (1u << (ph))

static gpointer
entry_agg(const WindowSet *set, const Entry *e, guint ph)
{
    return (guint8 *)e + ENTRY_SPACE + ph * AGG_SPACE(set);
}

static guint
window_phase(const Window *w)
{
    return (guint)(w - w->set->phase);
}

static Entry *
table_add(const WindowSet *set, GHashTable *table, const TrafanKey *key)
{
    Entry *e = g_malloc(ENTRY_SPACE + 2 * AGG_SPACE(set));
    e->key = *key;
    e->live = 0;
    for (guint ph = 0; ph < 2; ph++)
        memcpy(entry_agg(set, e, ph), set->blank, set->agg->size);
    g_hash_table_insert(table, &e->key, e);
    return e;
}

/* Phase ph's aggregate for key, its entry made if missing. */
static gpointer
table_phase(const WindowSet *set, GHashTable *table, const TrafanKey *key, guint ph)
{
    Entry *e = g_hash_table_lookup(table, key);
    if (e == NULL)
        e = table_add(set, table, key);
    e->live |= PHASE_BIT(ph);
    return entry_agg(set, e, ph);
}

/* Entries live in phase ph, in table order. */
static gboolean
table_next(GHashTableIter *it, guint ph, Entry **e)
{
    gpointer v;
    while (g_hash_table_iter_next(it, NULL, &v))
        if (((Entry *)v)->live & PHASE_BIT(ph)) {
            *e = v;
            return TRUE;
        }
    return FALSE;
}

/* Empty phase ph of every entry, or, with `into`, move it there (a window
 * kept for merge); entries left with no phase go. */
static void
table_clear_phase(WindowSet *set, GHashTable *table, guint ph, GHashTable *into)
{
    GHashTableIter it;
    gpointer v;
    set->recent[0] = set->recent[1] = NULL;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        Entry *e = v;
        if (e->live & PHASE_BIT(ph)) {
            gpointer agg = entry_agg(set, e, ph);
            if (into) {
                Entry *kept = table_add(set, into, &e->key);
                kept->live = PHASE_BIT(ph);
                memcpy(entry_agg(set, kept, ph), agg, set->agg->size);    /* counters own only heap */
            } else {
                agg_clear(set->agg, agg);
            }
            memcpy(agg, set->blank, set->agg->size);
            e->live &= ~PHASE_BIT(ph);
        }
        if (e->live == 0)
            g_hash_table_iter_remove(&it);
    }
}

static void
table_unref(const WindowSet *set, GHashTable *table)
{
    GHashTableIter it;
    gpointer v;
    if (table == NULL)
        return;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &v))
        for (guint ph = 0; ph < 2; ph++)
            if (((Entry *)v)->live & PHASE_BIT(ph))
                agg_clear(set->agg, entry_agg(set, v, ph));
    g_hash_table_unref(table);  /* frees the entries */
}

const TrafanKey trafan_window_key;

gconstpointer
trafan_judged_agg(const TrafanRuleCtx *ctx, const TrafanKey *key)
{
    const Window *w = ctx->detector->judging;
    if (w == NULL)
        return NULL;
    const Entry *e = g_hash_table_lookup(w->set->open, key);
    guint ph = window_phase(w);
    return e && (e->live & PHASE_BIT(ph)) ? entry_agg(w->set, e, ph) : NULL;
}

static void
window_judge_into(TrafanDetector *d, Window *w, GHashTable *findings)
{
    WindowSet *set = w->set;
    guint ph = window_phase(w);
    GHashTableIter it;
    Entry *e;
    d->judging_into = findings;
    d->judging = w;
    g_hash_table_iter_init(&it, set->open);
    while (table_next(&it, ph, &e))
        for (guint j = 0; j < set->n_judges; j++) {
            TrafanRuleCtx *ctx = set->judges[j];
            ctx->window_ns = set->length;
            ctx->rule->judge(ctx, &e->key, entry_agg(set, e, ph));
        }
    d->judging = NULL;
}

/* Judge the open window, then empty it; the first one is kept (merge may
 * extend it).  The last (`final`) is left as it is: nothing merges or
 * counts after it. */
static void
window_close(TrafanDetector *d, Window *w, gboolean final)
{
    if (w->index == NO_INDEX)
        return;
    gboolean head = w->index == w->head_index;
    window_judge_into(d, w, head ? w->head_findings : d->body);
    if (head && !final && !d->one_pass)
        w->head = window_table();
    if (!final)
        table_clear_phase(w->set, w->set->open, window_phase(w), head ? w->head : NULL);
    w->index = NO_INDEX;
    if (d->full)
        budget_check(d);        /* closing frees room */
}

static void
window_advance(TrafanDetector *d, Window *w, gint64 t)
{
    if (w->index != NO_INDEX && w->index == w->bounds_index && t >= w->bounds_start && t < w->bounds_end)
        return;
    gint64 length = w->set->length;
    gint64 idx = trafan_floor_div(t - w->offset, length);
    w->bounds_index = idx;
    w->bounds_start = idx * length + w->offset;
    w->bounds_end = w->bounds_start + length;
    if (idx == w->index)
        return;
    window_close(d, w, FALSE);
    w->index = idx;
    if (w->head_index == NO_INDEX)
        w->head_index = idx;
}

guint
trafan_slots(TrafanRuleCtx *ctx, const TrafanKey *key, gpointer out[2])
{
    TrafanDetector *d = ctx->detector;
    WindowSet *set = d->set_of[ctx->index];
    Entry *e = NULL;

    for (guint i = 0; i < 2 && e == NULL; i++)
        if (set->recent[i] && set->recent_key[i].hash == key->hash &&
            memcmp(&set->recent_key[i], key, sizeof *key) == 0)
            e = set->recent[i];
    if (e == NULL) {
        e = g_hash_table_lookup(set->open, key);
        if (e == NULL) {
            if (!trafan_rule_may_track(set->judges[0], g_hash_table_size(set->open))) {
                for (guint j = 1; j < set->n_judges; j++)
                    d->refused[set->judges[j]->index]++;
                return 0;
            }
            e = table_add(set, set->open, key);
        }
        set->recent_key[set->recent_next] = *key;
        set->recent[set->recent_next] = e;
        set->recent_next ^= 1;
    }
    e->live = PHASE_BIT(0) | PHASE_BIT(1);
    out[0] = entry_agg(set, e, 0);
    out[1] = entry_agg(set, e, 1);
    return 2;
}

#define EACH_WINDOW(d, w) \
    for (WindowSet *_set = (d)->sets; _set < (d)->sets + (d)->n_sets; _set++) \
        for (Window *w = _set->phase; w < _set->phase + 2; w++)

/* ------------------------------------------------------------------ */
/* Detector life cycle                                                  */

static double
window_length(const TrafanRule *rule, const void *config)
{
    for (guint i = 0; i < rule->n_options; i++)
        if (strcmp(rule->options[i].name, rule->window_option) == 0)
            return G_STRUCT_MEMBER(double, config, rule->options[i].offset);
    g_error("rule %s: no option %s", rule->name, rule->window_option);
}

/* The window set a windowed rule counts into: one it shares with an
 * earlier rule that counts the same aggregate the same way over the same
 * length, or its own. */
static WindowSet *
window_set_for(TrafanDetector *d, TrafanRuleCtx *ctx)
{
    const TrafanRule *rule = ctx->rule;
    gint64 length = trafan_seconds_ns(window_length(rule, ctx->config));
    for (guint r = 0; r < ctx->index; r++) {
        const TrafanRule *other = d->rules[r].rule;
        WindowSet *set = d->set_of[r];
        if (set && set->agg == rule->agg && other->observe == rule->observe && set->length == length) {
            set->judges[set->n_judges++] = ctx;
            return set;
        }
    }
    WindowSet *set = &d->sets[d->n_sets++];
    set->agg = rule->agg;
    set->length = length;
    set->judges[set->n_judges++] = ctx;
    set->open = window_table();
    set->blank = g_malloc(rule->agg->size);
    agg_init(rule->agg, set->blank);
    for (guint ph = 0; ph < 2; ph++) {
        Window *w = &set->phase[ph];
        w->set = set;
        w->offset = ph * (length / 2);
        w->index = w->head_index = NO_INDEX;
        w->head_findings = findings_new();
    }
    /* The first rule of a set observes for all of them. */
    for (guint e = 0; e < TRAFAN_N_EVENTS; e++)
        if (rule->events & TRAFAN_EVENT_BIT(e))
            d->observers[e][d->n_observers[e]++] = ctx;
    return set;
}

TrafanDetector *
trafan_detector_new(const TrafanDetectConfig *cfg)
{
    TrafanDetector *d = g_new0(TrafanDetector, 1);

    build_options();
    trafan_detect_config_copy(&d->cfg, cfg);
    d->budget = (gsize)d->cfg.max_state_mb << 20;
    d->next_edge = G_MININT64;
    for (guint r = 0; r < trafan_n_rules; r++) {
        TrafanRuleCtx *ctx = &d->rules[r];
        ctx->rule = trafan_rules[r];
        ctx->config = rule_config(&d->cfg, r);
        ctx->detector = d;
        ctx->index = r;
        if (ctx->rule->setup)
            ctx->data = ctx->rule->setup(ctx);
        if (ctx->rule->judge) {
            d->set_of[r] = window_set_for(d, ctx);
            continue;
        }
        ctx->state = ctx->rule->series->new_state(ctx);
        for (guint e = 0; e < TRAFAN_N_EVENTS; e++)
            if (ctx->rule->events & TRAFAN_EVENT_BIT(e))
                d->observers[e][d->n_observers[e]++] = ctx;
    }
    d->body = findings_new();
    d->output = findings_new();
    d->previews = findings_new();
    d->fresh = g_ptr_array_new();
    d->fresh_out = g_ptr_array_new();
    return d;
}

void
trafan_detector_set_one_pass(TrafanDetector *d)
{
    d->one_pass = TRUE;
}

void
trafan_detector_free(TrafanDetector *d)
{
    if (d == NULL)
        return;
    for (guint s = 0; s < d->n_sets; s++) {
        table_unref(&d->sets[s], d->sets[s].open);
        g_free(d->sets[s].blank);
    }
    EACH_WINDOW(d, w) {
        table_unref(w->set, w->head);
        g_hash_table_unref(w->head_findings);
    }
    for (guint r = 0; r < trafan_n_rules; r++) {
        if (d->rules[r].state)
            d->rules[r].rule->series->free_state(d->rules[r].state);
        g_free(d->rules[r].data);
    }
    g_hash_table_unref(d->body);
    g_hash_table_unref(d->output);
    g_hash_table_unref(d->previews);
    g_ptr_array_unref(d->fresh);
    g_ptr_array_unref(d->fresh_out);
    if (d->sorted)
        g_ptr_array_unref(d->sorted);
    trafan_detect_config_clear(&d->cfg);
    g_free(d);
}

/* ------------------------------------------------------------------ */
/* Packet dispatch                                                      */

static void
dispatch(TrafanDetector *d, const TrafanEvent *ev)
{
    for (guint i = 0; i < d->n_observers[ev->kind]; i++) {
        TrafanRuleCtx *ctx = d->observers[ev->kind][i];
        ctx->rule->observe(ctx, ev);
    }
}

static gboolean
icmp_is_error(guint8 family, guint8 type)
{
    return family == 4 ? (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
                       : (type >= 1 && type <= 4);
}

/* The IP header carrying the outermost ICMP message. */
static const TrafanIpLayer *
icmp_layer(const TrafanPacket *pkt)
{
    guint8 proto = pkt->icmp_family == 4 ? 1 : 58;
    const TrafanIpLayer *fallback = NULL;
    for (guint i = 0; i < pkt->n_ip && i < TRAFAN_MAX_LAYERS; i++) {
        if (pkt->ip[i].ip_proto == proto)
            return &pkt->ip[i];
        if (pkt->ip[i].src.family == pkt->icmp_family)
            fallback = &pkt->ip[i];   /* e.g. behind IPv6 extension headers */
    }
    return fallback;
}

void
trafan_detector_add(TrafanDetector *d, const TrafanPacket *pkt)
{
    if (d->finished)
        return;
    gint64 t = pkt->abs_ns;
    if (!d->seen) {
        d->seen = TRUE;
        d->first_ns = t;
        d->ref_ns = pkt->abs_ns - pkt->rel_ns;
    } else if (t < d->now) {
        t = d->now;             /* a step back in time: hold the clock */
    }
    d->now = t;
    if (++d->since_count >= MAX(d->full ? RECOUNT_FULL : RECOUNT_PACKETS, d->counted_keys)) {
        d->since_count = 0;
        budget_recount(d);
    }
    if (t >= d->next_edge) {
        /* Some window ends: move each on, and note when the next one ends. */
        d->next_edge = G_MAXINT64;
        EACH_WINDOW(d, w) {
            window_advance(d, w, t);
            d->next_edge = MIN(d->next_edge, w->bounds_end);
        }
    }

    guint n_ip = MIN(pkt->n_ip, TRAFAN_MAX_LAYERS);
    TrafanAddress src, dst;
    TrafanEvent ev = { .kind = TRAFAN_EV_FRAME, .t = t, .bytes = pkt->frame_len, .link_group = pkt->link_group };
    if (n_ip) {
        src = trafan_norm(&pkt->ip[0].src);
        dst = trafan_norm(&pkt->ip[0].dst);
        ev.src = &src;
        ev.dst = &dst;
    }
    dispatch(d, &ev);

    /* An ICMP error quotes the packet it answers: its headers are no traffic. */
    gboolean icmp_error = pkt->icmp_family && icmp_is_error(pkt->icmp_family, pkt->icmp_type);
    guint n_tr = MIN(pkt->n_transport, TRAFAN_MAX_LAYERS);
    for (guint i = 0; i < n_tr && !icmp_error; i++) {
        const TrafanTransport *tr = &pkt->transport[i];
        if (tr->ip_proto != 6 && tr->ip_proto != 17)
            continue;
        src = trafan_norm(&tr->src);
        dst = trafan_norm(&tr->dst);
        TrafanEvent te = {
            .kind = tr->ip_proto == 6 ? TRAFAN_EV_TCP : TRAFAN_EV_UDP, .t = t,
            .src = &src, .dst = &dst, .proto = tr->ip_proto, .tcp_flags = tr->tcp_flags,
            .sport = tr->src_port, .dport = tr->dst_port, .bytes = pkt->frame_len,
            .udp_response = tr->ip_proto == 17 && trafan_udp_is_response(tr->src_port, tr->dst_port),
            .link_group = pkt->link_group,
        };
        dispatch(d, &te);
    }
    /* A UDP fragment without its header still floods its target. */
    if (n_tr == 0 && n_ip && pkt->icmp_family == 0 && pkt->ip[n_ip - 1].ip_proto == 17) {
        src = trafan_norm(&pkt->ip[n_ip - 1].src);
        dst = trafan_norm(&pkt->ip[n_ip - 1].dst);
        TrafanEvent fe = { .kind = TRAFAN_EV_UDP_FRAGMENT, .t = t, .src = &src, .dst = &dst,
                           .proto = 17, .bytes = pkt->frame_len, .link_group = pkt->link_group };
        dispatch(d, &fe);
    }

    const TrafanIpLayer *ip = pkt->icmp_family && !icmp_error ? icmp_layer(pkt) : NULL;
    if (ip) {
        src = trafan_norm(&ip->src);
        dst = trafan_norm(&ip->dst);
        TrafanEvent ie = { .kind = TRAFAN_EV_ICMP, .t = t, .src = &src, .dst = &dst,
                           .proto = pkt->icmp_family == 4 ? 1 : 58, .icmp_type = pkt->icmp_type,
                           .bytes = pkt->frame_len, .link_group = pkt->link_group };
        dispatch(d, &ie);
    }
}

static GPtrArray *
table_values(GHashTable *table)
{
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    return all;
}

/* ------------------------------------------------------------------ */
/* Reporting                                                            */

static void
finding_publish(Finding *f)
{
    TrafanFlag *flag = f->flag;
    char host[TRAFAN_ADDRSTRLEN];

    if (!f->dirty)
        return;
    f->dirty = FALSE;
    flag->start_ns = f->start;
    flag->end_ns = MAX(f->end, f->start);
    flag->observed = f->observed;
    flag->threshold = f->threshold;
    flag->window_ns = f->window_ns;
    flag->approximate = f->approximate;
    flag->peers_total = MAX(f->peers_total, (guint64)g_hash_table_size(f->peers));

    GPtrArray *all = table_values(f->peers);
    g_ptr_array_sort(all, trafan_tally_by_count);
    g_array_set_size(flag->peers, 0);
    for (guint i = 0; i < MIN(all->len, TRAFAN_TOP_PEERS); i++) {
        const TrafanTally *t = all->pdata[i];
        TrafanFlagPeer p = { t->item, t->count };
        g_array_append_val(flag->peers, p);
    }
    g_ptr_array_unref(all);

    g_free(flag->filter);
    if (f->clauses_overflow || f->clauses->len == 0) {
        flag->filter = g_strdup(f->broad ? f->broad : "");
    } else if (f->clauses->len == 1) {
        flag->filter = g_strdup(f->clauses->pdata[0]);
    } else {
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < f->clauses->len; i++)
            g_string_append_printf(s, "%s(%s)", i ? " || " : "", (char *)f->clauses->pdata[i]);
        flag->filter = g_string_free(s, FALSE);
    }

    g_free(flag->summary);
    trafan_addr_text(&f->host, host);
    const char *all_peers = trafan_rules[f->rule]->source_peers;
    if (all_peers && f->role == TRAFAN_ROLE_SOURCE && flag->peers_total > 1)
        flag->summary = g_strdup_printf("%s %s; %" G_GUINT64_FORMAT " %s", host, f->detail,
                                        flag->peers_total, all_peers);
    else
        flag->summary = g_strdup_printf("%s %s", host, f->detail);
}

/* Judge the series rules (so far, or at the end) into d->body. */
static void
judge_series(TrafanDetector *d, gboolean so_far)
{
    for (guint r = 0; r < trafan_n_rules; r++) {
        TrafanRuleCtx *ctx = &d->rules[r];
        if (ctx->state == NULL)
            continue;
        d->judging_into = d->body;
        ctx->window_ns = 0;
        ctx->rule->series->judge(ctx, so_far);
    }
}

void
trafan_detector_peek(TrafanDetector *d)
{
    GHashTable *scratch = findings_new();
    d->peeking = TRUE;
    EACH_WINDOW(d, w)
        if (w->index != NO_INDEX)
            window_judge_into(d, w, scratch);
    /* Series rules are judged on their whole series at the end; what is
     * known so far is enough to alert. */
    judge_series(d, TRUE);
    d->peeking = FALSE;
    g_hash_table_unref(scratch);
}

GPtrArray *
trafan_detector_take_new(TrafanDetector *d)
{
    g_ptr_array_set_size(d->fresh_out, 0);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->output);
    while (g_hash_table_iter_next(&it, NULL, &v))
        finding_publish(v);
    g_hash_table_iter_init(&it, d->previews);
    while (g_hash_table_iter_next(&it, NULL, &v))
        finding_publish(v);
    for (guint i = 0; i < d->fresh->len; i++)
        g_ptr_array_add(d->fresh_out, d->fresh->pdata[i]);
    g_ptr_array_set_size(d->fresh, 0);
    return d->fresh_out;
}

static int
flag_compare(gconstpointer pa, gconstpointer pb)
{
    const TrafanFlag *a = *(TrafanFlag *const *)pa, *b = *(TrafanFlag *const *)pb;
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns ? -1 : 1;
    int c = strcmp(a->rule, b->rule);
    if (c)
        return c;
    c = trafan_item_compare(&a->host, &b->host);
    return c ? c : (int)a->role - (int)b->role;
}

const GPtrArray *
trafan_detector_finish(TrafanDetector *d)
{
    if (d->finished)
        return d->sorted;
    EACH_WINDOW(d, w)
        window_close(d, w, TRUE);
    judge_series(d, FALSE);

    GHashTableIter it;
    gpointer v;
    d->finished = TRUE;
    d->sorted = g_ptr_array_new();
    g_hash_table_iter_init(&it, d->output);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        finding_publish(v);
        g_ptr_array_add(d->sorted, ((Finding *)v)->flag);
    }
    g_ptr_array_sort(d->sorted, flag_compare);
    return d->sorted;
}

/* What an entry costs besides what its counters hold. */
#define ENTRY_OVERHEAD (TRAFAN_MALLOC_BYTES + TRAFAN_HASH_ENTRY_BYTES)

static gsize
window_keys(const TrafanDetector *d)
{
    gsize keys = 0;
    for (guint s = 0; s < d->n_sets; s++) {
        const WindowSet *set = &d->sets[s];
        keys += g_hash_table_size(set->open);
        for (guint ph = 0; ph < 2; ph++)
            keys += set->phase[ph].head ? g_hash_table_size(set->phase[ph].head) : 0;
    }
    return keys;
}

/* An entry's bytes: itself, its table slot and what its counters hold. */
static gsize
entry_bytes(const WindowSet *set, const Entry *e)
{
    gsize n = ENTRY_OVERHEAD + ENTRY_SPACE + 2 * AGG_SPACE(set);
    for (guint ph = 0; ph < 2; ph++)
        if (e->live & PHASE_BIT(ph))
            n += agg_bytes(set->agg, entry_agg(set, e, ph)) - set->agg->size;
    return n;
}

static gsize
set_bytes(const WindowSet *set)
{
    gsize n = 0;
    GHashTableIter it;
    gpointer v;
    GHashTable *tables[3] = { set->open, set->phase[0].head, set->phase[1].head };
    for (guint t = 0; t < 3; t++) {
        if (tables[t] == NULL)
            continue;
        g_hash_table_iter_init(&it, tables[t]);
        while (g_hash_table_iter_next(&it, NULL, &v))
            n += entry_bytes(set, v);
    }
    return n;
}

static gsize
windows_bytes(const TrafanDetector *d)
{
    gsize n = 0;
    for (guint s = 0; s < d->n_sets; s++)
        n += set_bytes(&d->sets[s]);
    return n;
}

static gsize
series_bytes(const TrafanDetector *d)
{
    gsize n = 0;
    for (guint r = 0; r < trafan_n_rules; r++)
        if (d->rules[r].state && d->rules[r].rule->series->bytes)
            n += d->rules[r].rule->series->bytes(d->rules[r].state);
    return n;
}

gsize
trafan_detector_state_bytes(const TrafanDetector *d)
{
    return sizeof *d + windows_bytes(d) + series_bytes(d);
}

/* The state's bytes.  The windows' are counted in full (every key and the
 * items inside its counters) whenever their keys have grown fourfold or
 * shrunk by half since the last count, and in between estimated from that
 * count's bytes per key: exact enough for a budget, O(1) per key amortised.
 * The series rules know their own size. */
static gsize
state_estimate(TrafanDetector *d)
{
    gsize keys = window_keys(d), windows;
    if (keys >= 4 * d->counted_keys + 256 || keys < d->counted_keys / 2) {
        d->counted_keys = keys;
        d->counted_bytes = windows = windows_bytes(d);
    } else {
        double per_key = d->counted_keys ? (double)d->counted_bytes / (double)d->counted_keys : 0;
        windows = (gsize)(per_key * (double)keys);
    }
    return sizeof *d + windows + series_bytes(d);
}

static void
budget_check(TrafanDetector *d)
{
    d->full = state_estimate(d) > d->budget;
}

/* The evidence an entry holds: the items and packets its counters saw. */
static guint64
entry_weight(const WindowSet *set, const Entry *e)
{
    guint64 w = 0;
    for (guint ph = 0; ph < 2; ph++) {
        if (!(e->live & PHASE_BIT(ph)))
            continue;
        const guint8 *a = entry_agg(set, e, ph);
        for (guint i = 0; i < set->agg->n_fields; i++) {
            const TrafanAggField *f = &set->agg->fields[i];
            for (guint k = 0; k < f->n; k++)
                if (f->kind == TRAFAN_AGG_DISTINCT)
                    w += trafan_distinct_count((const TrafanDistinct *)(a + f->offset) + k);
                else if (f->kind == TRAFAN_AGG_COUNT)
                    w += ((const guint64 *)(a + f->offset))[k];
        }
    }
    return w;
}

typedef struct {
    guint64 weight;
    gsize   bytes;
    Entry  *entry;
} Candidate;

static int
candidate_compare(gconstpointer pa, gconstpointer pb)
{
    const Candidate *a = pa, *b = pb;
    if (a->weight != b->weight)
        return a->weight < b->weight ? -1 : 1;
    return a->bytes > b->bytes ? -1 : a->bytes < b->bytes;
}

/* Free about `want` bytes from the open windows of `set`: its entries with
 * the least evidence go first (a sweep's or a flood's key, holding the most,
 * goes last), and never the FEW_KEYS that hold the most, nor the window's
 * own tallies.  What goes is refused: the rules' flags say approximate.
 * Returns the bytes freed. */
static gsize
set_shed(TrafanDetector *d, WindowSet *set, gsize want)
{
    guint n = g_hash_table_size(set->open);
    if (n <= FEW_KEYS)
        return 0;
    Candidate *all = g_new(Candidate, n);
    GHashTableIter it;
    gpointer v;
    guint i = 0;
    g_hash_table_iter_init(&it, set->open);
    while (g_hash_table_iter_next(&it, NULL, &v))
        if (!trafan_key_equal(&((Entry *)v)->key, &trafan_window_key))
            all[i++] = (Candidate){ entry_weight(set, v), entry_bytes(set, v), v };
    qsort(all, i, sizeof *all, candidate_compare);

    gsize freed = 0;
    guint shed = 0;
    for (; shed + FEW_KEYS < i && freed < want; shed++) {
        Entry *e = all[shed].entry;
        freed += all[shed].bytes;
        for (guint ph = 0; ph < 2; ph++)
            if (e->live & PHASE_BIT(ph))
                agg_clear(set->agg, entry_agg(set, e, ph));
        g_hash_table_remove(set->open, &e->key);     /* frees e */
    }
    g_free(all);
    set->recent[0] = set->recent[1] = NULL;
    for (guint j = 0; j < set->n_judges; j++)
        d->refused[set->judges[j]->index] += shed;
    return freed;
}

/* The keys already kept grow without new ones (a source kept before the
 * budget filled goes on sweeping), which the estimate per key does not
 * see: every so many packets (as many as keys, so O(1) per packet) the
 * state is counted in full.  Over the budget, the window sets holding the
 * most shed their lightest keys down to SHED_TO of it, so that the budget
 * holds until the next count; new keys wait for room (a window closing,
 * or the next count). */
static void
budget_recount(TrafanDetector *d)
{
    gsize bytes[MAX_RULES], windows = 0, fixed = sizeof *d + series_bytes(d);
    for (guint s = 0; s < d->n_sets; s++)
        windows += bytes[s] = set_bytes(&d->sets[s]);
    gsize target = (gsize)((double)d->budget * SHED_TO);
    gboolean done[MAX_RULES] = { FALSE }, over = fixed + windows > d->budget;
    while (fixed + windows > d->budget) {
        guint big = d->n_sets;
        for (guint s = 0; s < d->n_sets; s++)
            if (!done[s] && (big == d->n_sets || bytes[s] > bytes[big]))
                big = s;
        if (big == d->n_sets)
            break;
        done[big] = TRUE;
        gsize freed = set_shed(d, &d->sets[big], fixed + windows - MIN(target, fixed + windows));
        bytes[big] -= MIN(freed, bytes[big]);
        windows -= MIN(freed, windows);
    }
    d->counted_keys = window_keys(d);
    d->counted_bytes = windows;
    d->full = over;             /* what was shed had more right to stay than new keys */
}

guint64
trafan_detector_refused_keys(const TrafanDetector *d)
{
    guint64 n = 0;
    for (guint r = 0; r < trafan_n_rules; r++)
        n += d->refused[r];
    return n;
}

TrafanDetectorUsage
trafan_detector_usage(const TrafanDetector *d)
{
    return (TrafanDetectorUsage){ trafan_detector_state_bytes(d), d->budget, trafan_detector_refused_keys(d) };
}

guint
trafan_detector_open_flags(const TrafanDetector *d)
{
    guint n = g_hash_table_size(d->output);
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, d->previews);
    while (g_hash_table_iter_next(&it, &key, NULL))
        n += !g_hash_table_contains(d->output, key);
    return n;
}

/* ------------------------------------------------------------------ */
/* Merge                                                                */

G_DEFINE_QUARK(trafan-detect-error-quark, trafan_detect_error)

static void
findings_fold_all(TrafanDetector *d, GHashTable *into, GHashTable *from, gboolean to_output)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Finding *g = v;
        gboolean created;
        finding_fold(findings_get(into, &g->host, g->role, g->rule, NULL), g, d->cfg.exact_cap);
        if (!to_output)
            continue;
        Finding *f = findings_get(d->output, &g->host, g->role, g->rule, &created);
        finding_fold(f, g, d->cfg.exact_cap);
        if (created) {
            f->flag = trafan_flag_new(&f->host, f->role, trafan_rules[f->rule]->name);
            g_ptr_array_add(d->fresh, f->flag);
        }
    }
}

/* Phase ph of `from` into phase ph of `into`. */
static void
table_merge(const WindowSet *set, GHashTable *into, GHashTable *from, guint ph, guint cap)
{
    GHashTableIter it;
    Entry *e;
    g_hash_table_iter_init(&it, from);
    while (table_next(&it, ph, &e))
        agg_merge(set->agg, table_phase(set, into, &e->key, ph), entry_agg(set, e, ph), cap);
}

static void
window_merge(TrafanDetector *d, Window *w, const Window *later)
{
    guint cap = d->cfg.exact_cap, ph = window_phase(w);
    GHashTable *open = w->set->open;
    gboolean later_in_head = later->index != NO_INDEX && later->index == later->head_index;
    GHashTable *later_head = later_in_head ? later->set->open : later->head;

    if (later->head_index == NO_INDEX)
        return;                 /* later saw no packet */
    if (w->head_index == NO_INDEX) {
        /* Nothing here yet: take later's windows as they are. */
        w->head_index = later->head_index;
        if (later->head) {
            w->head = window_table();
            table_merge(w->set, w->head, later->head, ph, cap);
        }
        findings_fold_all(d, w->head_findings, later->head_findings, TRUE);
        table_merge(w->set, open, later->set->open, ph, cap);
        w->index = later->index;
        return;
    }
    if (w->index == later->head_index) {
        /* The window both slices share: judge it whole. */
        if (later_head)
            table_merge(w->set, open, later_head, ph, cap);
        if (later_in_head)
            return;
        window_close(d, w, FALSE);
    } else {
        window_close(d, w, FALSE);
        /* later's first window stands alone: its verdicts hold. */
        findings_fold_all(d, d->body, later->head_findings, TRUE);
    }
    table_merge(w->set, open, later->set->open, ph, cap);
    w->index = later->index;
}

gboolean
trafan_detector_merge(TrafanDetector *d, const TrafanDetector *later, GError **error)
{
    if (d->finished || later->finished || d->one_pass || later->one_pass) {
        g_set_error(error, trafan_detect_error_quark(), 1,
                    "cannot merge detectors after trafan_detector_finish() or made for one pass");
        return FALSE;
    }
    if (!same_config(&d->cfg, &later->cfg)) {
        g_set_error(error, trafan_detect_error_quark(), 2,
                    "cannot merge detectors with different options");
        return FALSE;
    }
    if (!later->seen)
        return TRUE;
    if (!d->seen) {
        d->first_ns = later->first_ns;
        d->ref_ns = later->ref_ns;
    }

    for (guint s = 0; s < d->n_sets; s++)
        for (guint ph = 0; ph < 2; ph++)
            window_merge(d, &d->sets[s].phase[ph], &later->sets[s].phase[ph]);
    findings_fold_all(d, d->body, later->body, TRUE);
    for (guint r = 0; r < trafan_n_rules; r++)
        if (d->rules[r].state)
            d->rules[r].rule->series->merge(&d->rules[r], d->rules[r].state, later->rules[r].state);

    d->seen = TRUE;
    d->now = MAX(d->now, later->now);
    d->next_edge = G_MININT64;      /* the windows moved */
    for (guint r = 0; r < trafan_n_rules; r++)
        d->refused[r] += later->refused[r];
    return TRUE;
}

/* ------------------------------------------------------------------ */
/* State files: the whole mergeable state as one GVariant               */

#define STATE_VERSION  1
#define KEY_TYPE       TRAFAN_KEY_TYPE
#define ENTRIES_TYPE   "a(" KEY_TYPE "av)"
#define FINDINGS_TYPE  "a(s" TRAFAN_ADDRESS_TYPE "uxxxxddbta(" TRAFAN_ADDRESS_TYPE "t)asbmsms)"
#define WINDOW_TYPE    "(xx" ENTRIES_TYPE "m" ENTRIES_TYPE FINDINGS_TYPE ")"
#define DETECTOR_TYPE  "(usbxxxa(st)a(xa" WINDOW_TYPE ")a(sv)" FINDINGS_TYPE FINDINGS_TYPE FINDINGS_TYPE ")"

static GVariant *
agg_save(const TrafanAggClass *cls, gconstpointer agg)
{
    GVariantBuilder b;
    g_variant_builder_init(&b, G_VARIANT_TYPE("av"));
    for (guint i = 0; i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        const guint8 *base = (const guint8 *)agg + f->offset;
        for (guint k = 0; k < f->n; k++) {
            GVariant *v;
            if (f->kind == TRAFAN_AGG_DISTINCT)
                v = trafan_distinct_save((const TrafanDistinct *)base + k);
            else if (f->kind == TRAFAN_AGG_COUNTS)
                v = trafan_counts_save(((TrafanCounts *const *)base)[k]);
            else if (f->kind == TRAFAN_AGG_FIRST || f->kind == TRAFAN_AGG_LAST)
                v = g_variant_new_int64(((const gint64 *)base)[k]);
            else
                v = g_variant_new_uint64(((const guint64 *)base)[k]);
            g_variant_builder_add(&b, "v", v);
        }
    }
    return g_variant_builder_end(&b);
}

static gboolean
agg_load(const TrafanAggClass *cls, gpointer agg, GVariant *saved, guint cap)
{
    gsize child = 0, n = g_variant_n_children(saved);
    gboolean ok = TRUE;
    for (guint i = 0; ok && i < cls->n_fields; i++) {
        const TrafanAggField *f = &cls->fields[i];
        guint8 *base = (guint8 *)agg + f->offset;
        for (guint k = 0; ok && k < f->n; k++) {
            if (child >= n) {
                ok = FALSE;
                break;
            }
            GVariant *boxed = g_variant_get_child_value(saved, child++);
            GVariant *v = g_variant_get_variant(boxed);
            if (f->kind == TRAFAN_AGG_DISTINCT)
                ok = g_variant_is_of_type(v, G_VARIANT_TYPE(TRAFAN_DISTINCT_TYPE)) &&
                     trafan_distinct_load((TrafanDistinct *)base + k, v, cap, NULL);
            else if (f->kind == TRAFAN_AGG_COUNTS)
                ok = g_variant_is_of_type(v, G_VARIANT_TYPE(TRAFAN_COUNTS_TYPE)) &&
                     trafan_counts_load((TrafanCounts **)base + k, v);
            else if (f->kind == TRAFAN_AGG_FIRST || f->kind == TRAFAN_AGG_LAST)
                ok = g_variant_is_of_type(v, G_VARIANT_TYPE_INT64) &&
                     ((((gint64 *)base)[k] = g_variant_get_int64(v)), TRUE);
            else
                ok = g_variant_is_of_type(v, G_VARIANT_TYPE_UINT64) &&
                     ((((guint64 *)base)[k] = g_variant_get_uint64(v)), TRUE);
            g_variant_unref(v);
            g_variant_unref(boxed);
        }
    }
    return ok && child == n;
}

static int
key_ptr_compare(gconstpointer a, gconstpointer b)
{
    return memcmp(*(const TrafanKey *const *)a, *(const TrafanKey *const *)b, sizeof(TrafanKey));
}

/* A table's TrafanKeys in byte order: the same state, the same bytes. */
static GPtrArray *
sorted_keys(GHashTable *table)
{
    GPtrArray *keys = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, key_ptr_compare);
    return keys;
}

/* Phase ph of a table of entries, in key order. */
static GVariant *
entries_save(const WindowSet *set, GHashTable *table, guint ph)
{
    GVariantBuilder b;
    GPtrArray *entries = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    Entry *e;
    g_hash_table_iter_init(&it, table);
    while (table_next(&it, ph, &e))
        g_ptr_array_add(entries, e);            /* an entry starts with its key */
    g_ptr_array_sort(entries, key_ptr_compare);
    g_variant_builder_init(&b, G_VARIANT_TYPE(ENTRIES_TYPE));
    for (guint i = 0; i < entries->len; i++) {
        e = entries->pdata[i];
        g_variant_builder_add(&b, "(@" KEY_TYPE "@av)", trafan_key_save(&e->key),
                              agg_save(set->agg, entry_agg(set, e, ph)));
    }
    g_ptr_array_unref(entries);
    return g_variant_builder_end(&b);
}

static gboolean
entries_load(const TrafanDetector *d, const WindowSet *set, GHashTable *into, guint ph, GVariant *saved)
{
    GVariantIter it;
    GVariant *entry;
    g_variant_iter_init(&it, saved);
    while ((entry = g_variant_iter_next_value(&it))) {
        GVariant *k = g_variant_get_child_value(entry, 0), *agg_v = g_variant_get_child_value(entry, 1);
        g_variant_unref(entry);
        TrafanKey key;
        const Entry *twin = NULL;
        gboolean ok = trafan_key_load(k, &key) &&
                      ((twin = g_hash_table_lookup(into, &key)) == NULL || !(twin->live & PHASE_BIT(ph))) &&
                      agg_load(set->agg, table_phase(set, into, &key, ph), agg_v, d->cfg.exact_cap);
        g_variant_unref(k);
        g_variant_unref(agg_v);
        if (!ok)
            return FALSE;       /* the caller frees the table, clearing what was loaded */
    }
    return TRUE;
}

static GVariant *
findings_save(GHashTable *map)
{
    GVariantBuilder b;
    GPtrArray *keys = sorted_keys(map);
    g_variant_builder_init(&b, G_VARIANT_TYPE(FINDINGS_TYPE));
    for (guint i = 0; i < keys->len; i++) {
        const Finding *f = g_hash_table_lookup(map, keys->pdata[i]);
        GVariantBuilder peers, clauses;
        g_variant_builder_init(&peers, G_VARIANT_TYPE("a(" TRAFAN_ADDRESS_TYPE "t)"));
        GPtrArray *tallies = table_values(f->peers);
        g_ptr_array_sort(tallies, trafan_tally_by_count);
        for (guint j = 0; j < tallies->len; j++) {
            const TrafanTally *t = tallies->pdata[j];
            g_variant_builder_add(&peers, "(@" TRAFAN_ADDRESS_TYPE "t)", trafan_address_save(&t->item), t->count);
        }
        g_ptr_array_unref(tallies);
        g_variant_builder_init(&clauses, G_VARIANT_TYPE("as"));
        for (guint j = 0; j < f->clauses->len; j++)
            g_variant_builder_add(&clauses, "s", (const char *)f->clauses->pdata[j]);
        g_variant_builder_add(&b, "(s@" TRAFAN_ADDRESS_TYPE "uxxxxddbta(" TRAFAN_ADDRESS_TYPE "t)asbmsms)",
                              trafan_rules[f->rule]->name, trafan_address_save(&f->host), (guint32)f->role,
                              f->start, f->end, f->window_ns, f->worst_start, f->observed, f->threshold,
                              f->approximate, f->peers_total, &peers, &clauses, f->clauses_overflow,
                              f->detail, f->broad);
    }
    g_ptr_array_unref(keys);
    return g_variant_builder_end(&b);
}

static gboolean
findings_load(GHashTable *into, GVariant *saved, gboolean with_flags)
{
    GVariantIter it, *peers, *clauses;
    const char *rule_name;
    GVariant *host_v;
    guint32 role;
    gint64 start, end, window_ns, worst_start;
    double observed, threshold;
    gboolean approximate, overflow;
    guint64 peers_total;
    char *detail, *broad;

    g_variant_iter_init(&it, saved);
    while (g_variant_iter_next(&it, "(&s@" TRAFAN_ADDRESS_TYPE "uxxxxddbta(" TRAFAN_ADDRESS_TYPE "t)asbmsms)",
                               &rule_name, &host_v, &role, &start, &end, &window_ns, &worst_start,
                               &observed, &threshold, &approximate, &peers_total, &peers, &clauses,
                               &overflow, &detail, &broad)) {
        TrafanAddress host;
        guint rule = 0;
        while (rule < trafan_n_rules && strcmp(trafan_rules[rule]->name, rule_name) != 0)
            rule++;
        gboolean created = FALSE, ok = trafan_address_load(host_v, &host) && rule < trafan_n_rules &&
                                       role <= TRAFAN_ROLE_TARGET;
        Finding *f = ok ? findings_get(into, &host, role, rule, &created) : NULL;
        ok = ok && created;
        if (ok) {
            f->start = start;
            f->end = end;
            f->window_ns = window_ns;
            f->worst_start = worst_start;
            f->observed = observed;
            f->threshold = threshold;
            f->approximate = approximate;
            f->peers_total = peers_total;
            f->clauses_overflow = overflow;
            f->detail = detail;
            f->broad = broad;
            detail = broad = NULL;
            GVariant *peer_v;
            guint64 count;
            while (ok && g_variant_iter_next(peers, "(@" TRAFAN_ADDRESS_TYPE "t)", &peer_v, &count)) {
                TrafanAddress peer;
                ok = trafan_address_load(peer_v, &peer);
                if (ok)
                    fold_peer(f, &peer, count, G_MAXUINT);
                g_variant_unref(peer_v);
            }
            const char *clause;
            while (g_variant_iter_next(clauses, "&s", &clause))
                g_ptr_array_add(f->clauses, g_strdup(clause));
            g_ptr_array_sort(f->clauses, str_ptr_compare);
            f->dirty = TRUE;
            if (with_flags)
                f->flag = trafan_flag_new(&f->host, f->role, trafan_rules[rule]->name);
        }
        g_free(detail);
        g_free(broad);
        g_variant_iter_free(peers);
        g_variant_iter_free(clauses);
        g_variant_unref(host_v);
        if (!ok)
            return FALSE;
    }
    return TRUE;
}

GVariant *
trafan_detector_save(const TrafanDetector *d)
{
    g_return_val_if_fail(!d->finished && !d->one_pass, NULL);
    GVariantBuilder sets, series;
    g_variant_builder_init(&sets, G_VARIANT_TYPE("a(xa" WINDOW_TYPE ")"));
    for (guint s = 0; s < d->n_sets; s++) {
        const WindowSet *set = &d->sets[s];
        GVariantBuilder phases;
        g_variant_builder_init(&phases, G_VARIANT_TYPE("a" WINDOW_TYPE));
        for (guint ph = 0; ph < 2; ph++) {
            const Window *w = &set->phase[ph];
            g_variant_builder_add(&phases, "(xx@" ENTRIES_TYPE "@m" ENTRIES_TYPE "@" FINDINGS_TYPE ")",
                                  w->index, w->head_index, entries_save(set, set->open, ph),
                                  g_variant_new_maybe(G_VARIANT_TYPE(ENTRIES_TYPE),
                                                      w->head ? entries_save(set, w->head, ph) : NULL),
                                  findings_save(w->head_findings));
        }
        g_variant_builder_add(&sets, "(xa" WINDOW_TYPE ")", set->length, &phases);
    }
    g_variant_builder_init(&series, G_VARIANT_TYPE("a(sv)"));
    for (guint r = 0; r < trafan_n_rules; r++)
        if (d->rules[r].state)
            g_variant_builder_add(&series, "(sv)", d->rules[r].rule->name,
                                  d->rules[r].rule->series->save(d->rules[r].state));
    GVariantBuilder refused;
    g_variant_builder_init(&refused, G_VARIANT_TYPE("a(st)"));
    for (guint r = 0; r < trafan_n_rules; r++)
        if (d->refused[r])
            g_variant_builder_add(&refused, "(st)", trafan_rules[r]->name, d->refused[r]);
    char *config = trafan_detect_config_describe(&d->cfg);
    GVariant *v = g_variant_new("(usbxxxa(st)a(xa" WINDOW_TYPE ")a(sv)@" FINDINGS_TYPE "@" FINDINGS_TYPE
                                "@" FINDINGS_TYPE ")", STATE_VERSION, config, d->seen, d->first_ns,
                                d->ref_ns, d->now, &refused, &sets, &series, findings_save(d->body),
                                findings_save(d->output), findings_save(d->previews));
    g_free(config);
    return v;
}

/* "port_scan_ports is 15 here, 20 in the state" for each option that differs. */
static char *
config_difference(const char *here, const char *there)
{
    char **a = g_strsplit(here, "\n", -1), **b = g_strsplit(there, "\n", -1);
    GString *s = g_string_new(NULL);
    for (guint i = 0; a[i] && *a[i]; i++) {
        const char *eq = strchr(a[i], '=');
        gsize name_len = eq ? (gsize)(eq - a[i]) + 1 : strlen(a[i]);
        const char *other = NULL;
        for (guint j = 0; b[j]; j++)
            if (strncmp(b[j], a[i], name_len) == 0)
                other = b[j] + name_len;
        if (eq && (other == NULL || strcmp(other, eq + 1) != 0)) {
            char *shown = g_strescape(other ? other : "(absent)", NULL);
            g_string_append_printf(s, "%s%.*s is %s here, %s in the state", s->len ? "; " : "",
                                   (int)(name_len - 1), a[i], eq + 1, shown);
            g_free(shown);
        }
    }
    g_strfreev(a);
    g_strfreev(b);
    return g_string_free(s, FALSE);
}

TrafanDetector *
trafan_detector_load(const TrafanDetectConfig *cfg, GVariant *state, GError **error)
{
    if (!g_variant_is_of_type(state, G_VARIANT_TYPE(DETECTOR_TYPE))) {
        g_set_error(error, trafan_state_error_quark(), 1, "not a trafan detector state (type %s)",
                    g_variant_get_type_string(state));
        return NULL;
    }
    guint32 version;
    const char *saved_config;
    g_variant_get_child(state, 0, "u", &version);
    if (version != STATE_VERSION) {
        g_set_error(error, trafan_state_error_quark(), 2, "detector state version %u, this trafan reads %u",
                    version, STATE_VERSION);
        return NULL;
    }
    TrafanDetector *d = trafan_detector_new(cfg);
    char *config = trafan_detect_config_describe(&d->cfg);
    g_variant_get_child(state, 1, "&s", &saved_config);
    if (strcmp(config, saved_config) != 0) {
        char *diff = config_difference(config, saved_config);
        g_set_error(error, trafan_state_error_quark(), 3, "detector state made with other options: %s", diff);
        g_free(diff);
        g_free(config);
        trafan_detector_free(d);
        return NULL;
    }
    g_free(config);

    GVariant *sets, *series, *body, *output, *previews;
    GVariantIter *refused;
    g_variant_get(state, "(u&sbxxxa(st)@a(xa" WINDOW_TYPE ")@a(sv)@" FINDINGS_TYPE "@" FINDINGS_TYPE "@"
                  FINDINGS_TYPE ")", &version, &saved_config, &d->seen, &d->first_ns, &d->ref_ns, &d->now,
                  &refused, &sets, &series, &body, &output, &previews);
    gboolean ok = g_variant_n_children(sets) == d->n_sets;
    const char *rule_name;
    guint64 count;
    while (ok && g_variant_iter_next(refused, "(&st)", &rule_name, &count)) {
        guint r = 0;
        while (r < trafan_n_rules && strcmp(trafan_rules[r]->name, rule_name) != 0)
            r++;
        ok = r < trafan_n_rules;
        if (ok)
            d->refused[r] = count;
    }
    g_variant_iter_free(refused);
    for (guint s = 0; ok && s < d->n_sets; s++) {
        WindowSet *set = &d->sets[s];
        GVariant *saved_set = g_variant_get_child_value(sets, s);
        GVariant *phases = g_variant_get_child_value(saved_set, 1);
        gint64 length;
        g_variant_get_child(saved_set, 0, "x", &length);
        ok = length == set->length && g_variant_n_children(phases) == 2;
        for (guint ph = 0; ok && ph < 2; ph++) {
            Window *w = &set->phase[ph];
            GVariant *open, *head, *head_findings;
            g_variant_get_child(phases, ph, "(xx@" ENTRIES_TYPE "@m" ENTRIES_TYPE "@" FINDINGS_TYPE ")",
                                &w->index, &w->head_index, &open, &head, &head_findings);
            ok = entries_load(d, set, set->open, ph, open) && findings_load(w->head_findings, head_findings, FALSE);
            GVariant *head_entries = g_variant_get_maybe(head);
            if (ok && head_entries) {
                w->head = window_table();
                ok = entries_load(d, set, w->head, ph, head_entries);
            }
            if (head_entries)
                g_variant_unref(head_entries);
            g_variant_unref(open);
            g_variant_unref(head);
            g_variant_unref(head_findings);
        }
        g_variant_unref(phases);
        g_variant_unref(saved_set);
    }
    GVariantIter it;
    const char *name;
    GVariant *saved;
    g_variant_iter_init(&it, series);
    while (ok && g_variant_iter_next(&it, "(&sv)", &name, &saved)) {
        guint r = 0;
        while (r < trafan_n_rules && strcmp(trafan_rules[r]->name, name) != 0)
            r++;
        ok = r < trafan_n_rules && d->rules[r].state &&
             d->rules[r].rule->series->load(&d->rules[r], d->rules[r].state, saved, error);
        g_variant_unref(saved);
    }
    ok = ok && findings_load(d->body, body, FALSE) && findings_load(d->output, output, TRUE) &&
         findings_load(d->previews, previews, TRUE);
    g_variant_unref(sets);
    g_variant_unref(series);
    g_variant_unref(body);
    g_variant_unref(output);
    g_variant_unref(previews);
    if (!ok) {
        if (error && *error == NULL)
            g_set_error(error, trafan_state_error_quark(), 4, "detector state is malformed");
        trafan_detector_free(d);
        return NULL;
    }
    return d;
}
