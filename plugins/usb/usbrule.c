/* usbrule.c — a hand-written parser and matcher for USBGuard's rule language (first match wins; no conditions) with sekisho's per-interface extension. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbrule.h"

/* The grammar follows USBGuard's RuleParser/Grammar.hpp:
 *   rule      := blank* ( comment | target [blank+ devid] (blank+ attribute)* [blank+ key] [comment] blank* )
 *   attribute := NAME blank+ ( [op blank+] '{' blank* value (blank+ value)* blank* '}' | value )
 *   comment   := blank* '#' anything
 * Every attribute may appear once. Conditions ("if") are refused. */

struct parser {
        const char *s;
        size_t len, pos;
        struct usbrule_error *err;
};

static int fail_at(struct parser *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(struct parser *p, size_t at, const char *fmt, ...) {
        if (p->err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
                va_end(ap);
                p->err->col = (unsigned)(at + 1);
        }
        return -EINVAL;
}

static bool is_blank(char c) { return c == ' ' || c == '\t'; }
static bool is_xdigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
static bool at_end(const struct parser *p) { return p->pos >= p->len; }
static char cur(const struct parser *p) { return at_end(p) ? '\0' : p->s[p->pos]; }

static size_t skip_blanks(struct parser *p) {
        size_t n = 0;
        while (!at_end(p) && is_blank(p->s[p->pos])) {
                p->pos++;
                n++;
        }
        return n;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return c - 'A' + 10;
}

/* A word of letters and '-', as keywords are written. */
static size_t read_word(struct parser *p, char *out, size_t outsz) {
        size_t start = p->pos, n = 0;
        while (!at_end(p)) {
                char c = p->s[p->pos];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-'))
                        break;
                if (n + 1 < outsz)
                        out[n++] = c;
                p->pos++;
        }
        out[n] = '\0';
        if (p->pos - start >= outsz) /* too long to be a keyword */
                out[0] = '\0';
        return p->pos - start;
}

static void describe_char(char c, char out[static 16]) {
        if (c == '\0')
                snprintf(out, 16, "end of rule");
        else if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
                snprintf(out, 16, "'%c'", c);
        else
                snprintf(out, 16, "byte 0x%02x", (unsigned char)c);
}

/* ---- values ---- */

static int parse_string(struct parser *p, struct usb_str *ret) {
        size_t start = p->pos;
        if (cur(p) != '"')
                return fail_at(p, p->pos, "expected a quoted string");
        p->pos++;
        char *buf = malloc(p->len - p->pos + 1);
        if (!buf)
                return -ENOMEM;
        size_t n = 0;
        for (;;) {
                if (at_end(p)) {
                        free(buf);
                        return fail_at(p, start, "unterminated string");
                }
                char c = p->s[p->pos];
                if (c == '"') {
                        p->pos++;
                        break;
                }
                if (c == '\r' || c == '\n') {
                        free(buf);
                        return fail_at(p, p->pos, "line break inside a string");
                }
                if (c != '\\') {
                        buf[n++] = c;
                        p->pos++;
                        continue;
                }
                size_t esc = p->pos++;
                char e = cur(p);
                if (e == 'x') {
                        p->pos++;
                        if (p->pos + 2 > p->len || !is_xdigit(p->s[p->pos]) || !is_xdigit(p->s[p->pos + 1])) {
                                free(buf);
                                return fail_at(p, esc, "\\x must be followed by two hex digits");
                        }
                        buf[n++] = (char)(hexval(p->s[p->pos]) * 16 + hexval(p->s[p->pos + 1]));
                        p->pos += 2;
                } else if (e >= '0' && e <= '9') {
                        unsigned v = 0, k = 0;
                        while (k < 3 && cur(p) >= '0' && cur(p) <= '9') {
                                if (cur(p) > '7') {
                                        free(buf);
                                        return fail_at(p, esc, "numeric escapes are octal (digits 0-7)");
                                }
                                v = v * 8 + (unsigned)(cur(p) - '0');
                                p->pos++;
                                k++;
                        }
                        if (v > 255) {
                                free(buf);
                                return fail_at(p, esc, "octal escape out of range");
                        }
                        buf[n++] = (char)v;
                } else {
                        const char *from = "abfnrtv\\'\"", *to = "\a\b\f\n\r\t\v\\'\"";
                        const char *f = e ? strchr(from, e) : NULL;
                        if (!f) {
                                free(buf);
                                return fail_at(p, esc, "invalid escape sequence in string");
                        }
                        buf[n++] = to[f - from];
                        p->pos++;
                }
                if (n > USBRULE_MAX_STRING) {
                        free(buf);
                        return fail_at(p, start, "string longer than %d bytes", USBRULE_MAX_STRING);
                }
        }
        buf[n] = '\0';
        ret->s = buf;
        ret->len = n;
        return 0;
}

static int parse_devid(struct parser *p, struct usb_devid *ret) {
        size_t start = p->pos;
        char *parts[2] = { ret->vid, ret->pid };
        for (int i = 0; i < 2; i++) {
                if (i == 1) {
                        if (cur(p) != ':')
                                return fail_at(p, p->pos, "device id must be VVVV:PPPP (four hex digits or '*' each)");
                        p->pos++;
                }
                if (cur(p) == '*') {
                        strcpy(parts[i], "*");
                        p->pos++;
                        continue;
                }
                for (int k = 0; k < 4; k++) {
                        if (!is_xdigit(cur(p)))
                                return fail_at(p, p->pos, "device id must be VVVV:PPPP (four hex digits or '*' each)");
                        parts[i][k] = p->s[p->pos++];
                }
                parts[i][4] = '\0';
        }
        if (strcmp(ret->vid, "*") == 0 && strcmp(ret->pid, "*") != 0)
                return fail_at(p, start, "invalid device id: vendor '*' needs product '*'");
        return 0;
}

static int parse_hex2(struct parser *p, uint8_t *ret) {
        if (p->pos + 2 > p->len || !is_xdigit(p->s[p->pos]) || !is_xdigit(p->s[p->pos + 1]))
                return -EINVAL;
        *ret = (uint8_t)(hexval(p->s[p->pos]) * 16 + hexval(p->s[p->pos + 1]));
        p->pos += 2;
        return 0;
}

static int parse_iftype(struct parser *p, struct usb_iftype *ret) {
        size_t start = p->pos;
        const char *form = "interface type must be CC:SS:PP in hex, with '*' only for trailing parts (08:*:*, 03:01:*)";
        *ret = (struct usb_iftype){ 0 };
        if (parse_hex2(p, &ret->cls) < 0)
                return fail_at(p, start, "%s", form);
        ret->mask = USB_IF_MATCH_CLASS;
        uint8_t *part[2] = { &ret->sub, &ret->proto };
        uint8_t bit[2] = { USB_IF_MATCH_SUBCLASS, USB_IF_MATCH_PROTOCOL };
        for (int i = 0; i < 2; i++) {
                if (cur(p) != ':')
                        return fail_at(p, p->pos, "%s", form);
                p->pos++;
                if (cur(p) == '*') {
                        p->pos++;
                        continue;
                }
                if (parse_hex2(p, part[i]) < 0)
                        return fail_at(p, p->pos, "%s", form);
                ret->mask |= bit[i];
        }
        if (ret->mask != USB_IF_MATCH_ALL && ret->mask != (USB_IF_MATCH_CLASS | USB_IF_MATCH_SUBCLASS) &&
            ret->mask != USB_IF_MATCH_CLASS)
                return fail_at(p, start, "%s", form);
        return 0;
}

static int parse_value(struct parser *p, enum usb_attr_kind kind, struct usb_attr *a) {
        if (a->n >= USBRULE_MAX_VALUES)
                return fail_at(p, p->pos, "more than %d values in one set", USBRULE_MAX_VALUES);
        size_t sz = kind == USB_ATTR_STR ? sizeof(struct usb_str)
                    : kind == USB_ATTR_ID ? sizeof(struct usb_devid)
                                          : sizeof(struct usb_iftype);
        void **arr = (void **)&a->v.str;
        if ((a->n & (a->n - 1)) == 0) { /* grow at powers of two: 1, 2, 4, ... */
                void *na = realloc(*arr, (a->n ? a->n * 2 : 1) * sz);
                if (!na)
                        return -ENOMEM;
                *arr = na;
        }
        int r;
        switch (kind) {
        case USB_ATTR_STR:
                r = parse_string(p, &a->v.str[a->n]);
                break;
        case USB_ATTR_ID:
                if (cur(p) != '*' && !is_xdigit(cur(p)))
                        return fail_at(p, p->pos, "expected a device id VVVV:PPPP");
                r = parse_devid(p, &a->v.id[a->n]);
                break;
        default:
                r = parse_iftype(p, &a->v.ift[a->n]);
                break;
        }
        if (r < 0)
                return r;
        a->n++;
        return 0;
}

static const struct {
        const char *name;
        enum usb_setop op;
} setops[] = {
        { "all-of", USB_OP_ALL_OF },       { "one-of", USB_OP_ONE_OF },
        { "none-of", USB_OP_NONE_OF },     { "equals", USB_OP_EQUALS },
        { "equals-ordered", USB_OP_EQUALS_ORDERED }, { "match-all", USB_OP_MATCH_ALL },
};

/* After "NAME blank+": an operator and set, a bare set, or one value. */
static int parse_attr_value(struct parser *p, const char *attr, enum usb_attr_kind kind, bool allow_op,
                            struct usb_attr *a) {
        a->present = true;
        a->op = USB_OP_EQUALS;
        size_t at = p->pos;
        char c = cur(p);
        if ((c >= 'a' && c <= 'z') && !(kind != USB_ATTR_STR && is_xdigit(c) && p->pos + 1 < p->len &&
                                         (is_xdigit(p->s[p->pos + 1]) || p->s[p->pos + 1] == ':'))) {
                char word[32];
                read_word(p, word, sizeof word);
                size_t i;
                for (i = 0; i < sizeof setops / sizeof setops[0]; i++)
                        if (strcmp(word, setops[i].name) == 0)
                                break;
                if (i == sizeof setops / sizeof setops[0]) {
                        p->pos = at;
                        if (kind == USB_ATTR_STR)
                                return fail_at(p, at, "%s: expected a quoted string or a set { ... }", attr);
                        /* fall through to value parsing for hex like "e55e:*" */
                } else {
                        if (!allow_op)
                                return fail_at(p, at, "%s takes a plain set { ... } without an operator", attr);
                        a->op = setops[i].op;
                        if (skip_blanks(p) == 0 || cur(p) != '{')
                                return fail_at(p, p->pos, "%s %s: expected ' {' after the operator", attr, word);
                }
        }
        if (cur(p) != '{') {
                if (a->op != USB_OP_EQUALS || p->pos != at)
                        return fail_at(p, p->pos, "%s: expected '{'", attr);
                return parse_value(p, kind, a);
        }
        size_t open = p->pos++;
        skip_blanks(p);
        if (cur(p) == '}')
                return fail_at(p, open, "%s: empty set", attr);
        for (;;) {
                int r = parse_value(p, kind, a);
                if (r < 0)
                        return r;
                size_t nb = skip_blanks(p);
                if (cur(p) == '}') {
                        p->pos++;
                        return 0;
                }
                if (at_end(p))
                        return fail_at(p, open, "%s: set not closed with '}'", attr);
                if (nb == 0) {
                        char d[16];
                        describe_char(cur(p), d);
                        return fail_at(p, p->pos, "%s: expected a blank or '}', not %s", attr, d);
                }
        }
}

/* ---- rules ---- */

static void attr_done(struct usb_attr *a, enum usb_attr_kind kind) {
        if (kind == USB_ATTR_STR)
                for (size_t i = 0; i < a->n; i++)
                        free(a->v.str[i].s);
        free(a->v.str);
        *a = (struct usb_attr){ 0 };
}

void usbrule_done(struct usb_rule *r) {
        if (!r)
                return;
        attr_done(&r->id, USB_ATTR_ID);
        attr_done(&r->name, USB_ATTR_STR);
        attr_done(&r->serial, USB_ATTR_STR);
        attr_done(&r->hash, USB_ATTR_STR);
        attr_done(&r->parent_hash, USB_ATTR_STR);
        attr_done(&r->via_port, USB_ATTR_STR);
        attr_done(&r->connect_type, USB_ATTR_STR);
        attr_done(&r->label, USB_ATTR_STR);
        attr_done(&r->with_interface, USB_ATTR_IF);
        free(r->ifpat);
        free(r->text);
        *r = (struct usb_rule){ 0 };
}

const char *usb_target_name(enum usb_target t) {
        switch (t) {
        case USB_TARGET_ALLOW: return "allow";
        case USB_TARGET_BLOCK: return "block";
        case USB_TARGET_REJECT: return "reject";
        case USB_TARGET_MATCH: return "match";
        }
        return "block";
}

/* Right after the target, "046d:c52b" or "*:*" is an id; "allow allow" is not. */
static bool looks_like_devid(const struct parser *p) {
        if (cur(p) == '*')
                return true;
        size_t k = 0;
        while (k < 4 && p->pos + k < p->len && is_xdigit(p->s[p->pos + k]))
                k++;
        return k > 0 && (p->pos + k >= p->len || p->s[p->pos + k] == ':' || is_xdigit(p->s[p->pos + k]) ||
                         (p->s[p->pos + k] >= '0' && p->s[p->pos + k] <= '9'));
}

static int parse_rule(struct parser *p, struct usb_rule *r) {
        skip_blanks(p);
        if (at_end(p) || cur(p) == '#')
                return -ENOENT;
        char word[32];
        size_t at = p->pos;
        read_word(p, word, sizeof word);
        if (strcmp(word, "allow") == 0)
                r->target = USB_TARGET_ALLOW;
        else if (strcmp(word, "block") == 0)
                r->target = USB_TARGET_BLOCK;
        else if (strcmp(word, "reject") == 0)
                r->target = USB_TARGET_REJECT;
        else if (strcmp(word, "match") == 0)
                r->target = USB_TARGET_MATCH;
        else if (strcmp(word, "device") == 0)
                return fail_at(p, at, "target 'device' only describes a device; a policy rule needs allow, block, reject or match");
        else
                return fail_at(p, at, "expected a target: allow, block or reject");

        bool first = true, keyed = false;
        struct usb_attr ifpat = { 0 };
        int r_ = 0;
        for (;;) {
                size_t nb = skip_blanks(p);
                if (at_end(p) || cur(p) == '#')
                        break;
                if (nb == 0) {
                        char d[16];
                        describe_char(cur(p), d);
                        r_ = fail_at(p, p->pos, "unexpected %s (attributes are separated by blanks)", d);
                        goto out;
                }
                if (keyed) {
                        r_ = fail_at(p, p->pos, "nothing but a comment may follow 'key'");
                        goto out;
                }
                at = p->pos;
                if (first && looks_like_devid(p)) {
                        /* "allow 046d:c52b": the id right after the target */
                        r->id.present = true;
                        r->id.op = USB_OP_EQUALS;
                        if ((r_ = parse_value(p, USB_ATTR_ID, &r->id)) < 0)
                                goto out;
                        first = false;
                        continue;
                }
                first = false;
                read_word(p, word, sizeof word);
                if (word[0] == '\0') {
                        char d[16];
                        describe_char(cur(p), d);
                        r_ = fail_at(p, at, "expected an attribute name, not %s", d);
                        goto out;
                }
                if (strcmp(word, "if") == 0) {
                        r_ = fail_at(p, at, "conditions ('if ...') are not supported by sekisho; "
                                            "write the rule without them (see sekisho.policy(5))");
                        goto out;
                }
                struct usb_attr *a = NULL;
                enum usb_attr_kind kind = USB_ATTR_STR;
                bool allow_op = true, is_ifpat = false;
                if (strcmp(word, "id") == 0)
                        a = &r->id, kind = USB_ATTR_ID;
                else if (strcmp(word, "name") == 0)
                        a = &r->name;
                else if (strcmp(word, "serial") == 0)
                        a = &r->serial;
                else if (strcmp(word, "hash") == 0)
                        a = &r->hash;
                else if (strcmp(word, "parent-hash") == 0)
                        a = &r->parent_hash;
                else if (strcmp(word, "via-port") == 0)
                        a = &r->via_port;
                else if (strcmp(word, "with-connect-type") == 0)
                        a = &r->connect_type;
                else if (strcmp(word, "label") == 0)
                        a = &r->label;
                else if (strcmp(word, "with-interface") == 0)
                        a = &r->with_interface, kind = USB_ATTR_IF;
                else if (strcmp(word, "block-interfaces") == 0 || strcmp(word, "allow-interfaces") == 0) {
                        if (ifpat.present) {
                                r_ = fail_at(p, at, "only one of block-interfaces and allow-interfaces per rule");
                                goto out;
                        }
                        a = &ifpat, kind = USB_ATTR_IF, allow_op = false, is_ifpat = true;
                        r->ifmode = word[0] == 'b' ? USB_IFMODE_BLOCK_LISTED : USB_IFMODE_ONLY_LISTED;
                } else if (strcmp(word, "key") == 0) {
                        if (skip_blanks(p) == 0) {
                                r_ = fail_at(p, p->pos, "key: expected a blank and a quoted string");
                                goto out;
                        }
                        struct usb_str k;
                        if ((r_ = parse_string(p, &k)) < 0)
                                goto out;
                        free(k.s);
                        keyed = true;
                        continue;
                } else {
                        r_ = fail_at(p, at, "unknown attribute '%s'", word);
                        goto out;
                }
                if (a->present) {
                        r_ = fail_at(p, at, "attribute '%s' given twice", word);
                        goto out;
                }
                if (skip_blanks(p) == 0) {
                        r_ = fail_at(p, p->pos, "%s: expected a blank and a value", word);
                        goto out;
                }
                if ((r_ = parse_attr_value(p, word, kind, allow_op, a)) < 0)
                        goto out;
                if (is_ifpat && r->target != USB_TARGET_ALLOW) {
                        r_ = fail_at(p, at, "%s only makes sense with target allow", word);
                        goto out;
                }
        }
        if (r->id.present)
                for (size_t i = 0; i < r->id.n; i++)
                        for (int k = 0; k < 4; k++)
                                if ((r->id.v.id[i].vid[k] >= 'A' && r->id.v.id[i].vid[k] <= 'F') ||
                                    (r->id.v.id[i].pid[k] >= 'A' && r->id.v.id[i].pid[k] <= 'F'))
                                        r->uppercase_id = true;
        r->ifpat = ifpat.v.ift;
        r->n_ifpat = ifpat.n;
        return 0;
out:
        attr_done(&ifpat, USB_ATTR_IF);
        return r_;
}

int usbrule_parse(const char *text, size_t len, struct usb_rule *ret, struct usbrule_error *err) {
        if (err)
                *err = (struct usbrule_error){ .col = 1 };
        *ret = (struct usb_rule){ 0 };
        struct parser p = { .s = text, .len = len, .err = err };
        if (len > USBRULE_MAX_LEN)
                return fail_at(&p, 0, "rule longer than %d bytes", USBRULE_MAX_LEN);
        if (memchr(text, '\0', len))
                return fail_at(&p, (size_t)((const char *)memchr(text, '\0', len) - text), "NUL byte in rule");
        int r = parse_rule(&p, ret);
        if (r < 0) {
                usbrule_done(ret);
                return r;
        }
        ret->text = strndup(text, len);
        if (!ret->text) {
                usbrule_done(ret);
                return -ENOMEM;
        }
        return 0;
}

/* ---- matching (USBGuard's Rule::Attribute::appliesTo) ---- */

bool usb_iftype_applies(const struct usb_iftype *pattern, const struct usb_iftype *t) {
        if ((pattern->mask & USB_IF_MATCH_CLASS) && pattern->cls != t->cls)
                return false;
        if ((pattern->mask & USB_IF_MATCH_SUBCLASS) && pattern->sub != t->sub)
                return false;
        if ((pattern->mask & USB_IF_MATCH_PROTOCOL) && pattern->proto != t->proto)
                return false;
        return true;
}

void usb_iftype_format(const struct usb_iftype *t, char out[static 9]) {
        if (!(t->mask & USB_IF_MATCH_SUBCLASS))
                snprintf(out, 9, "%02x:*:*", t->cls);
        else if (!(t->mask & USB_IF_MATCH_PROTOCOL))
                snprintf(out, 9, "%02x:%02x:*", t->cls, t->sub);
        else
                snprintf(out, 9, "%02x:%02x:%02x", t->cls, t->sub, t->proto);
}

/* One source item against one target item. */
typedef bool (*item_fn)(const struct usb_attr *a, size_t i, const void *targets, size_t j);

static bool item_str(const struct usb_attr *a, size_t i, const void *targets, size_t j) {
        const char *t = ((const char *const *)targets)[j];
        size_t tl = strlen(t);
        return a->v.str[i].len == tl && memcmp(a->v.str[i].s, t, tl) == 0;
}

static bool item_id(const struct usb_attr *a, size_t i, const void *targets, size_t j) {
        const struct usb_devid *src = &a->v.id[i];
        const struct usb_devid *t = &((const struct usb_devid *)targets)[j];
        if (strcmp(src->vid, "*") == 0)
                return true;
        if (strcmp(src->vid, t->vid) != 0)
                return false;
        if (strcmp(src->pid, "*") == 0)
                return true;
        return strcmp(src->pid, t->pid) == 0;
}

static bool item_if(const struct usb_attr *a, size_t i, const void *targets, size_t j) {
        return usb_iftype_applies(&a->v.ift[i], &((const struct usb_iftype *)targets)[j]);
}

/* match-all asks the other way round, as USBGuard 1.1's setSolveMatchAll: is
 * every item of the device's set covered by some item of the rule's? Its
 * isSupersetOf is the device id's isSubsetOf the rule's, where a '*' of the
 * rule never equals a real id (so "id match-all { 046d:* }" matches nothing),
 * the interface type's appliesTo for with-interface, and "true" for strings. */
typedef bool (*superset_fn)(const struct usb_attr *a, size_t i, const void *targets, size_t j);

static bool superset_id(const struct usb_attr *a, size_t i, const void *targets, size_t j) {
        const struct usb_devid *src = &a->v.id[i];
        const struct usb_devid *t = &((const struct usb_devid *)targets)[j];
        return strcmp(t->vid, src->vid) == 0 && strcmp(t->pid, src->pid) == 0;
}

static bool superset_str(const struct usb_attr *a, size_t i, const void *targets, size_t j) {
        (void)a, (void)i, (void)targets, (void)j;
        return true;
}

static bool match_all(const struct usb_attr *a, superset_fn fn, const void *targets, size_t nt) {
        for (size_t j = 0; j < nt; j++) {
                bool covered = false;
                for (size_t i = 0; i < a->n && !covered; i++)
                        covered = fn(a, i, targets, j);
                if (!covered)
                        return false;
        }
        return true;
}

static bool attr_applies(const struct usb_attr *a, item_fn fn, const void *targets, size_t nt) {
        if (!a->present || a->n == 0)
                return true;
        switch (a->op) {
        case USB_OP_MATCH_ALL:
                return match_all(a, fn == item_id ? superset_id : fn == item_if ? item_if : superset_str, targets, nt);
        case USB_OP_ALL_OF:
        case USB_OP_EQUALS:
                if (a->op == USB_OP_EQUALS && a->n != nt)
                        return false;
                for (size_t i = 0; i < a->n; i++) {
                        bool m = false;
                        for (size_t j = 0; j < nt && !m; j++)
                                m = fn(a, i, targets, j);
                        if (!m)
                                return false;
                }
                return true;
        case USB_OP_ONE_OF:
                for (size_t i = 0; i < a->n; i++)
                        for (size_t j = 0; j < nt; j++)
                                if (fn(a, i, targets, j))
                                        return true;
                return false;
        case USB_OP_NONE_OF:
                for (size_t i = 0; i < a->n; i++)
                        for (size_t j = 0; j < nt; j++)
                                if (fn(a, i, targets, j))
                                        return false;
                return true;
        case USB_OP_EQUALS_ORDERED:
                if (a->n != nt)
                        return false;
                for (size_t i = 0; i < a->n; i++)
                        if (!fn(a, i, targets, i))
                                return false;
                return true;
        }
        return false;
}

static bool str_applies(const struct usb_attr *a, const char *value) {
        const char *v[1] = { value ? value : "" };
        return attr_applies(a, item_str, v, 1);
}

bool usbrule_matches(const struct usb_rule *r, const struct usb_devinfo *d) {
        struct usb_devid id;
        memcpy(id.vid, d->vid, sizeof id.vid);
        memcpy(id.pid, d->pid, sizeof id.pid);
        return attr_applies(&r->id, item_id, &id, 1) && str_applies(&r->name, d->name) &&
               str_applies(&r->serial, d->serial) && str_applies(&r->hash, d->hash) &&
               str_applies(&r->parent_hash, d->parent_hash) && str_applies(&r->via_port, d->port) &&
               str_applies(&r->connect_type, d->connect_type) &&
               attr_applies(&r->with_interface, item_if, d->ifs, d->n_ifs);
}

bool usbrule_interface_allowed(const struct usb_rule *r, const struct usb_iftype *alts, size_t n_alts) {
        if (!r || r->target != USB_TARGET_ALLOW)
                return false;
        if (r->ifmode == USB_IFMODE_ALL)
                return true;
        if (n_alts == 0)
                return false; /* nothing known about it: block */
        for (size_t i = 0; i < n_alts; i++) {
                bool listed = false;
                for (size_t k = 0; k < r->n_ifpat && !listed; k++)
                        listed = usb_iftype_applies(&r->ifpat[k], &alts[i]);
                if (r->ifmode == USB_IFMODE_BLOCK_LISTED && listed)
                        return false;
                if (r->ifmode == USB_IFMODE_ONLY_LISTED && !listed)
                        return false;
        }
        return true;
}
