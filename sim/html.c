/*
 * html.c: an interactive timeline in one self-contained HTML file (no
 * network, no external script), in the manner of Porcupine's visualiser:
 * the SVG picture (svg.c) with a cursor, and the run's events as a list.
 * Step forward and back (buttons, arrow keys), or hover an event, to see it
 * and the lease file as it was at that moment (holder, token, expiry, torn or
 * removed). Output is a function of the world alone: same seed, same bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "mix.h"
#include "trace.h"

/* A JSON string for a script element: quotes, backslashes, controls and "<"
 * (so "</script>" can never close the element) escaped. */
static void json_string(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *cursor = (const unsigned char *)text; *cursor != '\0'; cursor++) {
        if (*cursor == '"' || *cursor == '\\')
            fprintf(out, "\\%c", *cursor);
        else if (*cursor < 0x20 || *cursor == '<')
            fprintf(out, "\\u%04x", *cursor);
        else
            fputc(*cursor, out);
    }
    fputc('"', out);
}

/* The version of the lease file standing at a step: the last change at or
 * before it, or -1. */
static int version_at(const struct sim_world *world, uint64_t step) {
    int found = -1;
    for (int index = 0; index < world->history_count && world->history[index].step <= step; index++) found = index;
    return found;
}

static void file_state(FILE *out, const struct sim_world *world, uint64_t step) {
    int version = version_at(world, step);
    if (version < 0) {
        fputs("{\"state\":\"missing\"}", out);
        return;
    }
    const struct sim_history *entry = &world->history[version];
    if (entry->inode < 0) {
        fputs("{\"state\":\"removed\"}", out);
        return;
    }
    fputs("{\"state\":", out);
    json_string(out, entry->token[0] == '\0' ? "torn or empty" : "a lease");
    fputs(",\"writer\":", out);
    json_string(out, entry->writer >= 0 ? world->processes[entry->writer].label : "initial");
    fputs(",\"token\":", out);
    json_string(out, entry->token);
    if (entry->expires_ms != INT64_MAX) {
        char expires[LEASE_TIMESTAMP_SIZE];
        lease_time_format(entry->expires_ms, expires);
        fputs(",\"expiresAt\":", out);
        json_string(out, expires);
    }
    fputc('}', out);
}

static void write_events(FILE *out, const struct sim_world *world) {
    fputs("[\n", out);
    for (int index = 0; index < world->story_count; index++) {
        const struct sim_story *story = &world->story[index];
        fprintf(out,
                "%s{\"step\":%" PRIu64 ",\"t\":%" PRId64 ",\"x\":%.1f,\"kind\":\"%s\",\"proc\":", index ? ",\n" : "",
                story->step, story->at_ms, sim_svg_x(world, story->at_ms), sim_story_kind_name(story->kind));
        json_string(out, story->process >= 0 ? world->processes[story->process].label : "");
        fputs(",\"text\":", out);
        json_string(out, story->text);
        fputs(",\"file\":", out);
        file_state(out, world, story->step);
        fputc('}', out);
    }
    fputs("\n]", out);
}

static const char *const page_style =
    "body{font-family:sans-serif;margin:12px;color:#222}#controls{margin:8px 0}"
    "button{font-size:14px;margin-right:6px}#detail{border:1px solid #ccc;padding:8px;margin:8px 0;"
    "background:#fafafa;min-height:60px;white-space:pre-wrap;font-family:monospace;font-size:13px}"
    "#events{font-size:12px;max-height:260px;overflow:auto;border:1px solid #eee}"
    "#events div{padding:2px 6px;cursor:pointer}#events div.current{background:#ffe9a8}"
    "#events div:hover{background:#eef3fb}#picture{overflow:auto;border:1px solid #eee}";

static const char *const page_script =
    "(function(){\n"
    "var events=JSON.parse(document.getElementById('events-data').textContent);\n"
    "var list=document.getElementById('events'),detail=document.getElementById('detail');\n"
    "var svg=document.getElementById('timeline'),ns='http://www.w3.org/2000/svg';\n"
    "var cursor=document.createElementNS(ns,'line');cursor.setAttribute('stroke','#d4a000');\n"
    "cursor.setAttribute('stroke-width','3');cursor.setAttribute('y1','60');\n"
    "cursor.setAttribute('y2',svg.viewBox.baseVal.height-60);svg.appendChild(cursor);\n"
    "var current=0;\n"
    "function describe(e){var f=e.file,s='step '+e.step+'  t='+e.t+' ms  '+e.kind+(e.proc?'  ('+e.proc+')':'')+\n"
    "'\\n'+e.text+'\\n\\nthe lease file then: '+f.state;\n"
    "if(f.writer)s+=', written by '+f.writer;if(f.token)s+='\\n  token '+f.token;\n"
    "if(f.expiresAt)s+='\\n  expiresAt '+f.expiresAt;return s;}\n"
    "function show(i){if(i<0||i>=events.length)return;current=i;var e=events[i];\n"
    "detail.textContent=describe(e);cursor.setAttribute('x1',e.x);cursor.setAttribute('x2',e.x);\n"
    "var rows=list.children;for(var k=0;k<rows.length;k++)rows[k].className=k===i?'current':'';\n"
    "document.getElementById('position').textContent=(i+1)+' / '+events.length;}\n"
    "events.forEach(function(e,i){var row=document.createElement('div');\n"
    "row.textContent='t='+e.t+' ms  '+(e.proc?e.proc+': ':'')+e.text;\n"
    "row.onmouseenter=function(){show(i);};row.onclick=function(){show(i);};list.appendChild(row);});\n"
    "document.getElementById('previous').onclick=function(){show(current-1);};\n"
    "document.getElementById('next').onclick=function(){show(current+1);};\n"
    "document.addEventListener('keydown',function(k){if(k.key==='ArrowLeft')show(current-1);\n"
    "if(k.key==='ArrowRight')show(current+1);});\n"
    "var wanted=/step=(\\d+)/.exec(location.hash);show(wanted?Math.min(+wanted[1],events.length-1):0);\n"
    "document.body.setAttribute('data-ready',String(events.length));\n"
    "})();\n";

int sim_html_write(const struct sim_world *world, const char *path) {
    FILE *out = fopen(path, "w");
    if (out == NULL) return -1;
    fputs("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>leasesim timeline: ", out);
    for (const char *cursor = world->plan.name; *cursor != '\0'; cursor++)
        if (*cursor != '<' && *cursor != '&') fputc(*cursor, out);
    char mix[256];
    sim_mix_name(world, mix, sizeof mix);
    fprintf(out, " - %s - seed %" PRIu64 "</title>\n<style>%s</style></head>\n<body>\n", mix, world->seed, page_style);
    fputs("<div id='controls'><button id='previous'>&#9664; previous</button><button id='next'>next "
          "&#9654;</button><span id='position'></span> (arrow keys step; hover an event)</div>\n",
          out);
    fputs("<div id='detail'></div>\n<div id='picture'>\n", out);
    sim_svg_emit(world, out);
    fputs("</div>\n<div id='events'></div>\n<script type='application/json' id='events-data'>", out);
    write_events(out, world);
    fprintf(out, "</script>\n<script>\n%s</script>\n</body></html>\n", page_script);
    return (ferror(out) | fclose(out)) == 0 ? 0 : -1;
}
