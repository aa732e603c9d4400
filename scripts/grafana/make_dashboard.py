#!/usr/bin/env python3
"""Writes scripts/grafana/shardmq.json, the Grafana dashboard: edit the panels
here, run `python3 scripts/grafana/make_dashboard.py > scripts/grafana/shardmq.json`
and commit both. tests/blackbox/dashboard.rs runs every query against a real
Prometheus."""
import json

# Every query sums over the brokers the job and instance variables pick.
SEL = '{job=~"$job",instance=~"$instance"}'
RI = '[$__rate_interval]'
DS = {"type": "prometheus", "uid": "${datasource}"}
panels = []
y = 0
pid = 0
def nid():
    global pid
    pid += 1
    return pid

def row(title):
    global y
    panels.append({"type": "row", "title": title, "id": nid(), "collapsed": False,
                   "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []})
    y += 1

def targets(ts):
    out = []
    for i, (expr, legend) in enumerate(ts):
        t = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": chr(65 + i), "range": True}
        out.append(t)
    return out

def ts_panel(title, desc, ts, unit, x, w, h=8, stack=False):
    p = {"type": "timeseries", "title": title, "description": desc, "id": nid(), "datasource": DS,
         "gridPos": {"h": h, "w": w, "x": x, "y": y},
         "fieldConfig": {"defaults": {"unit": unit, "min": 0,
                                      "custom": {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10,
                                                 "showPoints": "never",
                                                 "stacking": {"mode": "normal" if stack else "none", "group": "A"}}},
                         "overrides": []},
         "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                     "tooltip": {"mode": "multi", "sort": "desc"}},
         "targets": targets(ts)}
    panels.append(p)

def next_row(h=8):
    global y
    y += h

def s(metric):
    return metric + SEL

def rate(metric, by=None):
    inner = f'rate({s(metric)}{RI})'
    return f'sum by ({by}) ({inner})' if by else f'sum({inner})'

def q(phi, hist):
    return f'histogram_quantile({phi}, sum by (le) (rate({s(hist + "_bucket")}{RI})))'

row("Messages")
ts_panel("Messages in and out", "PUBLISH packets received from clients (in) and delivered to subscribers (out), per second.",
         [(rate("shardmq_messages_received_total"), "in"), (rate("shardmq_messages_sent_total"), "out")], "ops", 0, 8)
ts_panel("Deliveries by QoS", "PUBLISH packets delivered to clients per second, by the QoS of the delivery.",
         [(rate("shardmq_messages_sent_total", "qos"), "QoS {{qos}}")], "ops", 8, 8, stack=True)
ts_panel("Drops by reason", "Messages not delivered, per second: no matching subscriber, a slow subscriber's write buffer full (QoS 0), a full session queue, QoS 0 for an offline session, a shared group without members.",
         [(rate("shardmq_messages_dropped_total", "reason"), "{{reason}}"),
          (f'sum(rate({s("shardmq_control_messages_dropped_total")}{RI}))', "control (mesh)")], "ops", 16, 8)
next_row()
ts_panel("Payload bytes", "Payload bytes received from and delivered to clients, per second.",
         [(rate("shardmq_payload_bytes_received_total"), "in"), (rate("shardmq_payload_bytes_sent_total"), "out")], "Bps", 0, 8)
ts_panel("Messages received by QoS", "PUBLISH packets received from clients per second, by QoS.",
         [(rate("shardmq_messages_received_total", "qos"), "QoS {{qos}}")], "ops", 8, 8, stack=True)
ts_panel("Sessions, subscriptions, retained", "Sessions kept (online and offline), subscriptions, retained messages.",
         [(f'sum({s("shardmq_sessions")})', "sessions"), (f'sum({s("shardmq_subscriptions")})', "subscriptions"),
          (f'sum({s("shardmq_retained_messages")})', "retained")], "short", 16, 8)
next_row()

row("Latency")
hm = {"type": "heatmap", "title": "Publish-to-delivery latency", "id": nid(), "datasource": DS,
      "description": "From the moment a PUBLISH was read to the moment its delivery was written, per bucket of the broker's histogram.",
      "gridPos": {"h": 9, "w": 12, "x": 0, "y": y},
      "fieldConfig": {"defaults": {"custom": {"scaleDistribution": {"type": "linear"}}}, "overrides": []},
      "options": {"calculate": False, "cellGap": 1, "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64, "exponent": 0.5, "fill": "dark-orange", "scale": "exponential", "reverse": False},
                  "yAxis": {"unit": "s", "axisPlacement": "left"}, "rowsFrame": {"layout": "le"},
                  "cellValues": {"unit": "short"}, "tooltip": {"show": True, "yHistogram": False},
                  "legend": {"show": True}, "filterValues": {"le": 1e-9}},
      "targets": [{"datasource": DS, "expr": f'sum by (le) (increase({s("shardmq_publish_to_delivery_seconds_bucket")}{RI}))',
                   "format": "heatmap", "legendFormat": "{{le}}", "refId": "A", "range": True}]}
panels.append(hm)
ts_panel("Publish-to-delivery p50 / p99 / p99.9", "Quantiles estimated from the histogram buckets over the rate interval.",
         [(q(0.5, "shardmq_publish_to_delivery_seconds"), "p50"), (q(0.99, "shardmq_publish_to_delivery_seconds"), "p99"),
          (q(0.999, "shardmq_publish_to_delivery_seconds"), "p99.9")], "s", 12, 12, h=9)
next_row(9)
ts_panel("Cross-shard hop", "Time a message spends between shards (outbox to the receiving shard), p50 and p99.",
         [(q(0.5, "shardmq_cross_shard_hop_seconds"), "p50"), (q(0.99, "shardmq_cross_shard_hop_seconds"), "p99")], "s", 0, 12)
ts_panel("CONNECT to CONNACK", "Time from a socket's accept to its CONNACK (TLS handshake and password check included), p50 and p99.",
         [(q(0.5, "shardmq_connect_handshake_seconds"), "p50"), (q(0.99, "shardmq_connect_handshake_seconds"), "p99")], "s", 12, 12)
next_row()

row("Connections")
ts_panel("Connections: live and parked", "Connected clients, and those of them parked (idle, watched by the shard's epoll set instead of a task).",
         [(f'sum({s("shardmq_connections")})', "live"), (f'sum({s("shardmq_connections_parked")})', "parked")], "short", 0, 8)
ts_panel("New connections and refusals", "CONNACKs per second by reason code, and refusals by reason.",
         [(rate("shardmq_connack_total", "reason"), "CONNACK {{reason}}"),
          (rate("shardmq_connections_refused_total", "reason"), "refused: {{reason}}")], "ops", 8, 8)
ts_panel("Closed by the broker", "Connections closed per second: no CONNECT in time, keep-alive expired, protocol errors, malformed and oversize packets, takeovers.",
         [(rate("shardmq_connect_timeouts_total"), "connect timeout"), (rate("shardmq_keepalive_timeouts_total"), "keep-alive"),
          (rate("shardmq_protocol_errors_total"), "protocol error"), (rate("shardmq_malformed_packets_total"), "malformed"),
          (rate("shardmq_oversize_packets_total"), "oversize"), (rate("shardmq_takeovers_total"), "takeover")], "ops", 16, 8)
next_row()

row("Shards")
ts_panel("Connections per shard", "Connected clients on each shard: how evenly client IDs spread over the partitions.",
         [(f'sum by (shard) ({s("shardmq_shard_connections")})', "shard {{shard}}")], "short", 0, 8)
ts_panel("Messages per shard", "PUBLISH packets received (in) and delivered (out) by each shard's clients, per second.",
         [(rate("shardmq_shard_messages_received_total", "shard"), "shard {{shard}} in"),
          (rate("shardmq_shard_messages_sent_total", "shard"), "shard {{shard}} out")], "ops", 8, 8)
ts_panel("Between shards", "Messages crossing the mesh per second, and connections handed to their owner shard.",
         [(rate("shardmq_cross_shard_messages_total", "direction"), "messages {{direction}}"),
          (rate("shardmq_handoffs_total"), "hand-offs")], "ops", 16, 8)
next_row()

row("Listeners")
ts_panel("Connections per listener", "Connected clients per listener (transport:port).",
         [(f'sum by (listener) ({s("shardmq_listener_connections")})', "{{listener}}")], "short", 0, 8)
ts_panel("Handshake failures", "TLS handshakes and WebSocket upgrades that failed, and WebSocket connections closed for what they sent, per listener and cause, per second.",
         [(rate("shardmq_listener_handshake_failures_total", "listener, cause"), "{{listener}} {{cause}}"),
          (rate("shardmq_listener_websocket_refused_total", "listener, cause"), "{{listener}} ws {{cause}}")], "ops", 8, 8)
ts_panel("Refused credentials and ACL denials", "Per listener, per second: CONNECTs refused for their credentials, and publishes or subscriptions an ACL denied.",
         [(rate("shardmq_listener_auth_failures_total", "listener"), "{{listener}} auth"),
          (rate("shardmq_listener_acl_denials_total", "listener"), "{{listener}} ACL")], "ops", 16, 8)
next_row()

row("Broker")
ts_panel("Uptime", "Seconds since each broker started.",
         [(f'max by (instance) ({s("shardmq_uptime_seconds")})', "{{instance}}")], "s", 0, 8)
ts_panel("Password checks", "Password hashes checked (cache misses), answered from the cache, and CONNECTs that waited for or timed out on a check slot, per second.",
         [(rate("shardmq_auth_verifications_total"), "hashed"), (rate("shardmq_auth_cache_hits_total"), "cache hits"),
          (rate("shardmq_auth_slot_waits_total"), "waited"), (rate("shardmq_auth_slot_timeouts_total"), "timed out")], "ops", 8, 8)
ts_panel("Task panics", "Connection tasks that panicked (bugs; the shard carried on). Should stay at zero.",
         [(f'sum(increase({s("shardmq_task_panics_total")}{RI}))', "panics")], "short", 16, 8)
next_row()

def var(name, label, query):
    return {"name": name, "label": label, "type": "query", "datasource": DS,
            "query": {"query": query, "refId": name}, "definition": query,
            "includeAll": True, "multi": True, "allValue": ".+", "refresh": 2, "sort": 1,
            "current": {"selected": True, "text": "All", "value": "$__all"}, "hide": 0, "options": [], "regex": ""}

dash = {
    "title": "shardmq",
    "uid": "shardmq",
    "description": "shardmq MQTT broker: messages, latency, connections, shards, listeners (scripts/grafana/shardmq.json).",
    "tags": ["mqtt", "shardmq"],
    "editable": True,
    "graphTooltip": 1,
    "refresh": "10s",
    "time": {"from": "now-1h", "to": "now"},
    "timepicker": {},
    "timezone": "",
    "schemaVersion": 39,
    "version": 1,
    "links": [],
    "annotations": {"list": []},
    "templating": {"list": [
        {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus",
         "current": {}, "hide": 0, "includeAll": False, "multi": False, "options": [], "refresh": 1, "regex": ""},
        var("job", "Job", "label_values(shardmq_uptime_seconds, job)"),
        var("instance", "Instance", 'label_values(shardmq_uptime_seconds{job=~"$job"}, instance)'),
    ]},
    "panels": panels,
}
print(json.dumps(dash, indent=2, ensure_ascii=False))
