#!KAMAILIO
# Pult SIP edge. Rendered by server_stub/sip/edge.py into a run directory; the @@NAME@@
# markers are filled from EdgeConfig. Kamailio decides nothing itself: the routing logic
# lives in the KEMI script (pult_kemi.py), which asks the Pult server for every decision.

debug=@@DEBUG@@
log_stderror=yes
fork=yes
children=@@CHILDREN@@
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
use_dns_cache=no
mhomed=0
server_header="Server: Pult edge"
# The most a transaction may have (30: tm refuses more): a queued ACD call takes one per
# wait and one per phone it rings, so it can be offered about 15 times (pult_kemi.py, ACD).
max_branches=30
user_agent_header="User-Agent: Pult edge"

listen=udp:@@ADDRESS@@:@@PORT@@
listen=tcp:@@ADDRESS@@:@@PORT@@
# SIP over TLS when EdgeConfig.tls_port is set (edge.py fills these two markers).
@@TLS_LISTEN@@
tcp_connection_lifetime=3605
tcp_accept_no_cl=yes

mpath="@@MPATH@@"

loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "dialog.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "pike.so"
loadmodule "nathelper.so"
loadmodule "rtimer.so"
loadmodule "tsilo.so"
loadmodule "ctl.so"
loadmodule "app_python3.so"
@@TLS_MODULE@@

modparam("ctl", "binrpc", "unix:@@RUNDIR@@/kamailio_ctl")

# A ring stage sets its own timers (t_set_fr / t_set_max_lifetime); these are only ceilings.
modparam("tm", "failure_reply_mode", 3)
modparam("tm", "fr_timer", 30000)
modparam("tm", "fr_inv_timer", 120000)
modparam("tm", "max_inv_lifetime", 3600000)
modparam("tm", "auto_inv_100_reason", "Trying")

modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 1)

# Dialogs are tracked (dlg_manage() on accepted INVITEs) so the edge can end a call itself:
# a prepaid call cut when the money runs out gets a BYE to both parties. Memory only.
modparam("dialog", "enable_stats", 1)
modparam("dialog", "db_mode", 0)
modparam("dialog", "default_timeout", 43200)

# Registrations are kept in memory only: Kamailio is the registrar, the server owns users.
modparam("usrloc", "db_mode", 0)
modparam("usrloc", "use_domain", 1)
modparam("usrloc", "preload", "location")
modparam("registrar", "method_filtering", 1)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 30)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("registrar", "append_branches", 1)

modparam("auth", "nonce_expire", 300)
modparam("auth", "secret", "@@AUTH_SECRET@@")

modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "natping_interval", 0)

# ha1: short-lived cache of HA1 answers; authfail: failed digest attempts per source address;
# ban: addresses refused outright; calls: per-call counters (event sequence numbers).
modparam("htable", "htable", "ha1=>size=8;autoexpire=@@HA1_CACHE@@;")
modparam("htable", "htable", "authfail=>size=8;autoexpire=@@BAN_WINDOW@@;")
modparam("htable", "htable", "ban=>size=8;autoexpire=@@BAN_SECONDS@@;")
modparam("htable", "htable", "calls=>size=10;autoexpire=7200;")
# Expired items (an ended call's, a minute after its end) are removed every 5 s.
modparam("htable", "timer_interval", 5)
modparam("htable", "htable", "addnext=>size=8;autoexpire=3600;")

modparam("pike", "sampling_time_unit", @@PIKE_UNIT@@)
modparam("pike", "reqs_density_per_unit", @@PIKE_DENSITY@@)
modparam("pike", "remove_latency", 4)

modparam("tsilo", "hash_size", 1024)

# Every 100 ms: add the branches of add-the-next stages that are due and replay spooled events.
modparam("rtimer", "timer", "name=pult;interval=100000u;mode=1;")
modparam("rtimer", "exec", "timer=pult;route=ksr_timer")
modparam("rtimer", "timer", "name=spool;interval=200000u;mode=1;")
modparam("rtimer", "exec", "timer=spool;route=ksr_spool")
# Every second: ask the server which calls to end now (money ran out) and end them.
modparam("rtimer", "timer", "name=cuts;interval=1;mode=1;")
modparam("rtimer", "exec", "timer=cuts;route=ksr_cuts")
# Every 100 ms, while calls wait in ACD queues: ask which are offered now and ring them.
modparam("rtimer", "timer", "name=acd;interval=100000u;mode=1;")
modparam("rtimer", "exec", "timer=acd;route=ksr_acd")

modparam("app_python3", "load", "@@KEMI@@")

cfgengine "python"
