/* Sweep files, part 1: reading the file and loading its YAML within bounds (spec_int.h says how
 * the parts of src/spec fit together).
 *
 * The file is untrusted input, read whole (at most ISW_SPEC_MAX_BYTES, from a regular file or
 * standard input, never a FIFO or device that could block) and checked in passes, each bounded
 * before the next allocates:
 *   1. events: libyaml's event parser reads the whole stream once, counting nodes against
 *      ISW_SPEC_MAX_NODES, nesting against ISW_SPEC_MAX_DEPTH and anchors against
 *      ISW_SPEC_MAX_ANCHORS, and stops at the first event past any. libyaml's scanner does work
 *      proportional to the flow depth for every token, so 500,000 nested '[' (1 MB) took minutes
 *      in the loader; stopped at depth 64 they cost microseconds. Its loader looks every anchor
 *      and every alias up among all the anchors before it, so 99,000 anchors (693 KB) took 24 s
 *      there; at most 256 of them (a sweep file needs a handful), each alias costs at most 256
 *      comparisons. Syntax and encoding errors are reported here with their real line:col.
 *   2. load: libyaml's document API, which keeps aliases as shared nodes.
 *   3. expansion: one walk with aliases expanded counts visits against ISW_SPEC_MAX_NODES, so an
 *      alias bomb or a cyclic alias is refused before any allocation grows with it.
 *   4. tree: a walk that knows each node's key path refuses scalars holding a NUL (an escaped
 *      "\0", which C strings would silently cut) and nesting past ISW_SPEC_MAX_DEPTH through
 *      aliases.
 * Every message is "path:line:col: key: what was found; what was expected". */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iclsweep/core/text.h"
#include "spec_int.h"

/* ---- messages ---------------------------------------------------------------------------- */

isw_loc spec_loc(const yaml_node_t *n) {
    isw_loc l = {(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
    return l;
}

isw_status spec_fail_at(parser *ps, isw_loc loc, const char *key, const char *fmt, ...) {
    char what[ISW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (loc.line > 0)
        return isw_fail(ps->err, ISW_EINPUT, "%s:%d:%d: %s: %s", ps->path, loc.line, loc.col, key,
                        what);
    return isw_fail(ps->err, ISW_EINPUT, "%s: %s: %s", ps->path, key, what);
}

/* A short quoted rendering of what a node holds, for "found ..." in messages. */
const char *spec_describe(const yaml_node_t *n, char *buf, size_t size) {
    switch (n->type) {
    case YAML_SCALAR_NODE: {
        char shown[48]; /* about 40 characters, control bytes escaped, "..." when cut */
        if (n->data.scalar.length == 0) snprintf(buf, size, "nothing");
        else snprintf(buf, size, "'%s'", isw_text_escape_len(shown, sizeof shown,
                                                            (const char *)n->data.scalar.value,
                                                            n->data.scalar.length));
        break;
    }
    case YAML_SEQUENCE_NODE: {
        long items = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
        snprintf(buf, size, "a list of %ld item%s", items, items == 1 ? "" : "s");
        break;
    }
    case YAML_MAPPING_NODE: snprintf(buf, size, "a mapping"); break;
    default: snprintf(buf, size, "an empty node"); break;
    }
    return buf;
}

const char *spec_scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The message key "section.name" (or "name" when section is "") for key node kn, its text
 * escaped for the terminal, into buf[size]; returns buf. */
const char *spec_key_path(char *buf, size_t size, const char *section, const yaml_node_t *kn) {
    char name[128];
    if (kn && kn->type == YAML_SCALAR_NODE)
        isw_text_escape_len(name, sizeof name, (const char *)kn->data.scalar.value,
                            kn->data.scalar.length);
    else snprintf(name, sizeof name, "(key)");
    snprintf(buf, size, "%s%s%s", section, section[0] ? "." : "", name);
    return buf;
}

int spec_is_null(const yaml_node_t *n) {
    const char *s = spec_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}


/* ---- limits: a walk with aliases expanded ------------------------------------------------- */

/* Pushes node id onto the walk's stack, growing it; returns 0 when out of memory. */
static int push_node(int **stack, size_t *cap, size_t *top, int id) {
    if (*top == *cap) {
        int *grown = realloc(*stack, 2 * *cap * sizeof **stack);
        if (!grown) return 0;
        *stack = grown;
        *cap *= 2;
    }
    (*stack)[(*top)++] = id;
    return 1;
}

/* Walks the whole document as a naive consumer would, expanding aliases, and refuses it past
 * ISW_SPEC_MAX_NODES visits (this also ends a cyclic alias). */
static isw_status check_expansion(parser *ps) {
    size_t cap = 256, top = 0;
    int *stack = malloc(cap * sizeof *stack);
    long visited = 0;
    isw_status st = ISW_OK;
    if (!stack || !push_node(&stack, &cap, &top, 1)) /* node ids are 1-based; 1 is the root */
        st = isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    while (!st && top > 0) {
        yaml_node_t *n = yaml_document_get_node(&ps->doc, stack[--top]);
        if (!n) continue;
        if (++visited > ISW_SPEC_MAX_NODES) {
            st = spec_fail_at(ps, spec_loc(n), "(document)",
                         "more than %ld YAML nodes once aliases are expanded; refusing (alias bomb "
                         "or cyclic alias?)",
                         ISW_SPEC_MAX_NODES);
            break;
        }
        int ok = 1;
        if (n->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 ok && it < n->data.sequence.items.top; it++)
                ok = push_node(&stack, &cap, &top, *it);
        } else if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
                 ok && p < n->data.mapping.pairs.top; p++)
                ok = push_node(&stack, &cap, &top, p->key) && push_node(&stack, &cap, &top, p->value);
        }
        if (!ok) st = isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    }
    free(stack);
    return st;
}


/* ---- YAML errors and the bounded passes ---------------------------------------------------- */

/* Line and column (1-based; columns count characters, as libyaml's marks do) of byte offset off
 * in text[len]. libyaml reports encoding errors as a byte offset with no mark. */
static isw_loc offset_loc(const char *text, size_t len, size_t off) {
    isw_loc l = {1, 1};
    size_t i = 0;
    if (off > len) off = len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) i = 3; /* a BOM takes no column */
    if (i > off) i = off;
    for (; i < off; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
            l.line++;
            l.col = 1;
        } else if (c != '\r' && (c & 0xC0) != 0x80) { /* a UTF-8 continuation byte adds none */
            l.col++;
        }
    }
    return l;
}

/* Reports the error libyaml's parser yp stopped at: an encoding error at its byte, anything else
 * at libyaml's mark. Returns the status. */
static isw_status yaml_fail(parser *ps, const yaml_parser_t *yp) {
    const char *problem = yp->problem ? yp->problem : "unknown";
    if (yp->error == YAML_MEMORY_ERROR)
        return isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    if (yp->error == YAML_READER_ERROR) {
        char value[32] = "";
        if (yp->problem_value >= 0) snprintf(value, sizeof value, " (0x%02x)", (unsigned)yp->problem_value);
        return spec_fail_at(ps, offset_loc(ps->text, ps->len, yp->problem_offset), "(document)",
                       "YAML encoding error: %s%s; expected UTF-8 text", problem, value);
    }
    isw_loc at = {(int)yp->problem_mark.line + 1, (int)yp->problem_mark.column + 1};
    return spec_fail_at(ps, at, "(document)", "YAML syntax error: %s%s%s", problem,
                   yp->context ? " " : "", yp->context ? yp->context : "");
}

/* The anchor (&name) an event defines, or NULL. */
static const yaml_char_t *event_anchor(const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return ev->data.scalar.anchor;
    case YAML_SEQUENCE_START_EVENT: return ev->data.sequence_start.anchor;
    case YAML_MAPPING_START_EVENT: return ev->data.mapping_start.anchor;
    default: return NULL;
    }
}

/* Pass 1 (see the header): reads the whole stream as events and stops at the first node past
 * ISW_SPEC_MAX_NODES or the first list or mapping nested past ISW_SPEC_MAX_DEPTH, or at a syntax
 * or encoding error. Allocates nothing that grows with the input; time is linear in it. */
static isw_status check_events(parser *ps) {
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) return isw_fail(ps->err, ISW_EINTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&yp, (const unsigned char *)ps->text, ps->len);
    long nodes = 0, anchors = 0;
    int depth = 0, done = 0;
    isw_status st = ISW_OK;
    while (!st && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            st = yaml_fail(ps, &yp);
            break;
        }
        isw_loc at = {(int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1};
        int opens = ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        int node = opens || ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) depth--;
        done = ev.type == YAML_STREAM_END_EVENT;
        if (opens && ++depth > ISW_SPEC_MAX_DEPTH)
            st = spec_fail_at(ps, at, "(document)",
                         "lists and mappings nested deeper than %d levels; a sweep file needs 5 "
                         "at most",
                         ISW_SPEC_MAX_DEPTH);
        else if (node && ++nodes > ISW_SPEC_MAX_NODES)
            st = spec_fail_at(ps, at, "(document)", "more than %ld YAML nodes; refusing",
                         ISW_SPEC_MAX_NODES);
        else if (event_anchor(&ev) && ++anchors > ISW_SPEC_MAX_ANCHORS)
            st = spec_fail_at(ps, at, "(document)", "more than %d YAML anchors (&name); a sweep file needs a "
                              "few at most", ISW_SPEC_MAX_ANCHORS);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return st;
}

/* Refuses scalar node n (a key when is_key), which holds a NUL byte; path names it. */
static isw_status fail_nul(parser *ps, const yaml_node_t *n, const char *path, int is_key) {
    size_t at = strlen(spec_scalar(n));
    return spec_fail_at(ps, spec_loc(n), path[0] ? path : "(document)",
                   "the %s holds a NUL character (\\0) at byte %zu; expected text without NUL",
                   is_key ? "key" : "value", at + 1);
}

static int holds_nul(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && strlen(spec_scalar(n)) != n->data.scalar.length;
}

/* Pass 4 (see the header): refuses any key or value holding a NUL byte (libyaml keeps an escaped
 * "\0" of a quoted scalar, and every C string after it would be cut short: "K\0xx" would read
 * as K) and nesting deeper than ISW_SPEC_MAX_DEPTH once aliases are expanded. path is n's key
 * path for messages ("" at the top), depth its depth. Visits are bounded by check_expansion,
 * which runs first. */
static isw_status check_tree(parser *ps, yaml_node_t *n, const char *path, int depth) {
    char child[256];
    isw_status st = ISW_OK;
    if (!n) return ISW_OK;
    if (depth > ISW_SPEC_MAX_DEPTH)
        return spec_fail_at(ps, spec_loc(n), path[0] ? path : "(document)",
                       "nested deeper than %d levels once aliases are expanded; a sweep file "
                       "needs 5 at most",
                       ISW_SPEC_MAX_DEPTH);
    if (n->type == YAML_SCALAR_NODE && holds_nul(n)) return fail_nul(ps, n, path, 0);
    if (n->type == YAML_SEQUENCE_NODE) {
        long i = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             !st && it < n->data.sequence.items.top; it++, i++) {
            snprintf(child, sizeof child, "%s[%ld]", path, i);
            st = check_tree(ps, yaml_document_get_node(&ps->doc, *it), child, depth + 1);
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; !st && p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
            spec_key_path(child, sizeof child, path, kn);
            if (kn && holds_nul(kn)) return fail_nul(ps, kn, child, 1);
            if (kn && kn->type != YAML_SCALAR_NODE) st = check_tree(ps, kn, child, depth + 1);
            if (!st) st = check_tree(ps, yaml_document_get_node(&ps->doc, p->value), child, depth + 1);
        }
    }
    return st;
}


/* The sweep file's name as messages show it, escaped for the terminal, into buf[size]. */
const char *spec_shown_path(char *buf, size_t size, const char *path) {
    return isw_text_escape(buf, size, strcmp(path, STDIN_PATH) ? path : STDIN_SHOWN);
}


/* Passes 1-4 of the header on ps->text: the document is loaded into ps->doc (which the caller
 * deletes, also on failure); a second document is refused. */
isw_status spec_load_document(parser *ps) {
    isw_status st = check_events(ps);
    if (st) return st;
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) return isw_fail(ps->err, ISW_EINTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&yp, (const unsigned char *)ps->text, ps->len);
    if (!yaml_parser_load(&yp, &ps->doc)) {
        st = yaml_fail(ps, &yp);
        memset(&ps->doc, 0, sizeof ps->doc); /* libyaml leaves nothing to delete on failure */
        yaml_parser_delete(&yp);
        return st;
    }
    if (yaml_document_get_root_node(&ps->doc)) {
        /* A second document would be silently ignored: refuse it instead. */
        yaml_document_t second;
        if (yaml_parser_load(&yp, &second)) {
            yaml_node_t *r = yaml_document_get_root_node(&second);
            if (r) st = spec_fail_at(ps, spec_loc(r), "(document)",
                                "a second YAML document; a sweep file holds exactly one");
            yaml_document_delete(&second);
        } else {
            st = yaml_fail(ps, &yp);
        }
    }
    yaml_parser_delete(&yp);
    yaml_node_t *root = yaml_document_get_root_node(&ps->doc);
    if (!st && root) st = check_expansion(ps);
    if (!st && root) st = check_tree(ps, root, "", 1);
    return st;
}


/* ---- reading the file ------------------------------------------------------------------------ */

/* What kind of file st_mode is, for "not a regular file" messages. */
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* Opens path for reading into *fd, refusing anything but a regular file: O_NONBLOCK makes the
 * open of a FIFO with no writer return at once instead of blocking, and fstat then says what it
 * is. shown names the file in messages. */
static isw_status open_regular(const char *path, const char *shown, int *fd, isw_error *err) {
    struct stat sb;
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return isw_fail(err, ISW_EINPUT, "%s: cannot open the sweep file: %s", shown, strerror(errno));
    isw_status st = ISW_OK;
    if (fstat(*fd, &sb) != 0)
        st = isw_fail(err, ISW_EINPUT, "%s: cannot read the sweep file: %s", shown, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = isw_fail(err, ISW_EINPUT,
                      "%s: cannot read the sweep file: it is %s; a sweep file must be a regular "
                      "file, or - to read standard input",
                      shown, file_kind(sb.st_mode));
    if (st) {
        close(*fd);
        *fd = -1;
        return st;
    }
    int flags = fcntl(*fd, F_GETFL); /* reads of a regular file never block; clear it anyway */
    if (flags >= 0) fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK);
    return ISW_OK;
}

/* Reads up to cap bytes from fd into buf until end of file; returns the count, or -1 on a read
 * error (errno says which). */
static long read_all(int fd, char *buf, size_t cap) {
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

isw_status isw_sweep_load(const char *path, int64_t max_tasks, isw_sweep *sw, isw_error *err) {
    char shown[512];
    spec_shown_path(shown, sizeof shown, path);
    memset(sw, 0, sizeof *sw);
    int from_stdin = !strcmp(path, STDIN_PATH), fd = STDIN_FILENO;
    isw_status st = from_stdin ? ISW_OK : open_regular(path, shown, &fd, err);
    if (st) return st;
    char *buf = malloc((size_t)ISW_SPEC_MAX_BYTES + 1);
    long len = buf ? read_all(fd, buf, (size_t)ISW_SPEC_MAX_BYTES + 1) : 0;
    int read_errno = errno;
    if (!from_stdin) close(fd);
    if (!buf) st = isw_fail(err, ISW_EINTERNAL, "out of memory reading %s", shown);
    else if (len < 0)
        st = isw_fail(err, ISW_EINPUT, "%s: cannot read the sweep file: %s", shown, strerror(read_errno));
    else if (len > ISW_SPEC_MAX_BYTES)
        st = isw_fail(err, ISW_EINPUT, "%s: the file is larger than %ld bytes; a sweep file may have at most that",
                      shown, ISW_SPEC_MAX_BYTES);
    else st = isw_sweep_parse(buf, len, path, max_tasks, sw, err);
    free(buf);
    return st;
}

