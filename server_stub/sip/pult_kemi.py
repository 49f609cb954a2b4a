"""Pult SIP edge logic, run by Kamailio's app_python3 (KEMI). Standard library only.

Kamailio decides nothing here on its own: it authenticates against HA1s the server owns,
asks the server for a ring plan for every new INVITE, executes that plan (stages one after
another, branches of a stage in parallel, add-the-next branches appended on a 100 ms timer)
and reports what happened to the server.

Call events are appended to a spool journal first and sent from a timer process; a line
counts as sent only after the server acknowledged it (see _flush_spool). So a server that is
down loses nothing: the events wait and are replayed when it is back, and the server stores
each (call_id, seq) once. Per-call state lives in the shared-memory htable ``calls`` until a
minute after the call ends.

Accepted calls are tracked as dialogs (the dialog module), so the edge can also end a call
itself: every second a timer asks the server which calls to end (``GET /api/sip/cuts``, e.g.
a prepaid domain ran out of money), sends a BYE to both parties and reports the reason.
"""

# mypy: ignore-errors

import contextlib
import hashlib
import http.client
import json
import os
import time
import urllib.parse
import uuid

import KSR  # provided by Kamailio

with open(os.environ["PULT_EDGE_CONFIG"], encoding="utf-8") as _fh:
    CFG = json.load(_fh)
SERVER = CFG["server_url"].rstrip("/")
TOKEN = CFG["token"]
SPOOL = CFG["spool_dir"]
ADDNEXT = CFG["addnext_dir"]
TRUNK = CFG.get("trunk", "")  # "host:port" of the carrier gateway, "" = none
BAN_AFTER = int(CFG.get("ban_after", 5))
HTTP_TIMEOUT = float(CFG.get("http_timeout", 3.0))
TOKEN_HEADER = "X-Pult-Edge-Token"
BUSY_CODES = (486, 600)
#: Set by the server only (a supervisor's listen-in call): removed from every client INVITE.
SPY_HEADER = "X-Pult-Spy"
SPY_CONTENT_TYPE = "application/x-pult-spy"
# A mode change travels in a MESSAGE inside the call (pjsua answers an INFO it does not know
# with 500 and gives the application no say); INFO is checked the same way.
SPY_METHODS = ("MESSAGE", "INFO")
MEDIA_REFUSAL = (480, "Voicemail not available")
#: Caller identity a phone (or the carrier) may send: removed; the edge asserts its own.
IDENTITY_HEADERS = ("P-Asserted-Identity", "P-Preferred-Identity", "Remote-Party-ID")


class ServerError(Exception):
    pass


_SERVER_URL = urllib.parse.urlsplit(SERVER)
_conn = None  # (pid, connection): one kept-alive connection per Kamailio process


def _connection(fresh):
    global _conn
    if _conn is not None and _conn[0] == os.getpid() and not fresh:
        return _conn[1]
    if _conn is not None and _conn[0] == os.getpid():
        _conn[1].close()
    https = _SERVER_URL.scheme == "https"
    kind = http.client.HTTPSConnection if https else http.client.HTTPConnection
    # Made after the fork (the pid check): children never share a socket.
    _conn = (os.getpid(), kind(_SERVER_URL.hostname, _SERVER_URL.port, timeout=HTTP_TIMEOUT))
    return _conn[1]


def _http(method, path, body=None, error_body=False):
    """(status, JSON body or None; None for any status >= 300 unless ``error_body``: then an
    error's JSON too, as it carries the cause). Over one kept-alive connection per process: a
    new TCP connection per request cost the server and the edge more than the route decision
    itself. Answers are asked in English: their texts become SIP reason phrases."""
    data = None if body is None else json.dumps(body).encode()
    headers = {TOKEN_HEADER: TOKEN, "Content-Type": "application/json", "Accept-Language": "en"}
    for attempt in (0, 1):
        conn = _connection(fresh=attempt > 0)
        reused = conn.sock is not None
        try:
            conn.request(method, _SERVER_URL.path.rstrip("/") + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError) as exc:
            conn.close()
            if reused and attempt == 0:
                # The server closed the idle connection before reading this request: it was
                # not handled, so it goes once more on a new connection.
                continue
            raise ServerError(str(exc)) from exc
        except (OSError, http.client.HTTPException) as exc:
            conn.close()  # a timeout or a broken answer: the next request starts clean
            raise ServerError(str(exc)) from exc
        if resp.will_close:
            conn.close()
        if resp.status >= 300 and not error_body:
            return resp.status, None
        try:
            return resp.status, (json.loads(raw) if raw else None)
        except ValueError as exc:
            if resp.status >= 300:
                return resp.status, None
            raise ServerError(str(exc)) from exc
    raise ServerError("unreachable")


def _pv(name):
    return KSR.pv.get(name)


def _get(key):
    return KSR.htable.sht_get("calls", key)


def _set(key, value):
    KSR.htable.sht_sets("calls", key, str(value))


def _now():
    return time.time()


# --- events -------------------------------------------------------------------------------


def _event(call_id, kind, **fields):
    """Spool one call event; the timer process sends it (see ksr_spool)."""
    seq = KSR.htable.sht_inc("calls", call_id + "|seq")
    if seq is None or int(seq) <= 0:  # no counter (a call this edge did not route): start one
        KSR.htable.sht_seti("calls", call_id + "|seq", 1000)
        seq = KSR.htable.sht_inc("calls", call_id + "|seq")
    event = {"call_id": call_id, "seq": int(seq), "type": kind, "at": _now()}
    parties = _get(call_id + "|parties")
    if parties:
        event.update(json.loads(parties))
    event.update(fields)
    line = json.dumps(event).encode() + b"\n"
    fd = _journal()
    written = os.write(fd, line)
    if written != len(line):  # a full disk: end the fragment so the next event stays whole
        with contextlib.suppress(OSError):
            os.write(fd, b"\n")
        raise OSError(f"short write to the spool ({written} of {len(line)} bytes)")
    if kind != "ringing":
        # Answers and ends make the CDR and the bill: on disk before the call goes on.
        # A ringing event changes neither, and its flush would hold up the 180 itself.
        os.fdatasync(fd)
    if kind in FINAL_EVENTS:
        _expire(call_id)


# What a call keeps in the "calls" table while it lasts (its ring plan, parties, dialog tags…).
CALL_KEYS = (
    "parties", "ftag", "uris", "cseq", "seq", "plan", "stage", "answered", "ttag", "callee",
    "hdrs", "pai", "ended", "acd", "acd_state", "acd_offer", "acd_last", "acd_cseq",
)  # fmt: skip
FINAL_EVENTS = ("end", "refused")
FORGET_AFTER_SECONDS = int(CFG.get("forget_after_seconds", 60))


def _expire(call_id):
    """The call is over: its keys go a minute later (late retransmissions and a BYE crossing
    the first one still find them). Left to the table's two-hour expiry they held shared
    memory for every call of the last two hours: Kamailio ran out near 300 calls a second.
    (A branch's few small keys — its label, ringing seen — still wait for that expiry.)"""
    for key in CALL_KEYS:
        KSR.htable.sht_setex("calls", call_id + "|" + key, FORGET_AFTER_SECONDS)


# The spool is a journal per Kamailio process and period ("<period>-<pid>.jsonl", an event
# per line, appended; a period is JOURNAL_SECONDS): a file per event cost ~0.4 ms of kernel
# time each (create, rename, the flusher's unlink), more than the rest of the edge's work for
# a call. One timer process (ksr_spool) sends whole lines from where it last got to
# ("<journal>.sent" holds that offset) and deletes a journal once it is sent and its period
# is two periods gone: no process writes to it then. A replay after a crash sends some events
# twice: the server stores an event once per (call_id, seq).
JOURNAL = ".jsonl"
JOURNAL_SECONDS = int(CFG.get("journal_seconds", 60))
BATCH = 50
_journal_of = None  # (pid, period, fd): this process's open journal


def _journal():
    global _journal_of
    pid, period = os.getpid(), int(time.time() // JOURNAL_SECONDS)
    if _journal_of is not None and _journal_of[:2] == (pid, period):
        return _journal_of[2]
    if _journal_of is not None and _journal_of[0] == pid:
        os.close(_journal_of[2])
    path = os.path.join(SPOOL, f"{period}-{pid}{JOURNAL}")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _journal_of = (pid, period, fd)
    return fd


def _sent(path):
    try:
        with open(path + ".sent", encoding="ascii") as fh:
            return int(fh.read().strip() or 0)
    except (OSError, ValueError):
        return 0


def _mark_sent(path, offset):
    with open(path + ".sent.tmp", "w", encoding="ascii") as fh:
        fh.write(str(offset))
    os.replace(path + ".sent.tmp", path + ".sent")


def _flush_spool():
    try:
        names = sorted(os.listdir(SPOOL))
    except OSError:
        return
    period = int(time.time() // JOURNAL_SECONDS)
    for name in names:
        path = os.path.join(SPOOL, name)
        if name.endswith(".sent") and name[: -len(".sent")] not in names:
            with contextlib.suppress(OSError):
                os.unlink(path)  # its journal is gone (deleted just before a crash)
        elif name.endswith(JOURNAL):
            closed = int(name.split("-", 1)[0]) <= period - 2
            if not _flush_journal(path, closed):
                return  # the server is away: everything waits for the next round


def _flush_journal(path, closed):
    """Send a journal's unsent whole lines; False when the server did not take them."""
    offset = _sent(path)
    try:
        with open(path, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except OSError:
        return True
    whole = data[: data.rfind(b"\n") + 1]  # a line being written waits for its end
    lines = whole.split(b"\n")[:-1]
    while lines:
        chunk, lines = lines[:BATCH], lines[BATCH:]
        events, bad = [], []
        for raw in chunk:
            try:
                events.append(json.loads(raw))
            except ValueError:
                bad.append(raw)
        if events:
            try:
                status, _ = _http("POST", "/api/sip/events", {"events": events})
            except ServerError:
                return False
            if status >= 500 or status in (401, 403):
                KSR.err(f"pult: events not accepted now ({status}), kept in the spool\n")
                return False
            if status >= 300:
                # A batch the server can never take (malformed): set aside, not retried.
                KSR.err(f"pult: events rejected ({status}), moved to spool/rejected\n")
                bad = chunk
        if bad:
            os.makedirs(os.path.join(SPOOL, "rejected"), exist_ok=True)
            with open(os.path.join(SPOOL, "rejected", os.path.basename(path)), "ab") as out:
                out.write(b"".join(raw + b"\n" for raw in bad))
        offset += sum(len(raw) + 1 for raw in chunk)
        _mark_sent(path, offset)
    if closed:
        if len(whole) != len(data):
            KSR.err(f"pult: an unfinished line at the end of {path} dropped\n")
        for done in (path, path + ".sent"):
            with contextlib.suppress(OSError):
                os.unlink(done)
    return True


# --- authentication -----------------------------------------------------------------------


def _ha1(realm, username):
    """The HA1 (or HA1B for user@domain usernames) from the server, cached briefly."""
    key = realm + "|" + username
    cached = KSR.htable.sht_get("ha1", key)
    if cached:
        return cached
    status, body = _http("POST", "/api/sip/credentials", {"domain": realm, "username": username})
    if status == 200 and body and body.get("ha1"):
        ha1 = body["ha1"]
    elif status == 404:
        # Unknown user: a digest nobody can match, so the answer equals a wrong password.
        ha1 = hashlib.md5(("unknown:" + key).encode()).hexdigest() + "!"
    else:
        raise ServerError(f"credentials: {status}")
    KSR.htable.sht_sets("ha1", key, ha1)
    return ha1


def _banned(src):
    return KSR.htable.sht_get("ban", src) is not None


def _auth_failed(src):
    count = KSR.htable.sht_inc("authfail", src)
    if count is None or int(count) <= 0:  # sht_inc fails on a missing item: start counting
        KSR.htable.sht_seti("authfail", src, 1)
        count = 1
    if int(count) >= BAN_AFTER:
        KSR.htable.sht_seti("ban", src, 1)
        KSR.notice(f"pult: {src} banned after {int(count)} failed authentications\n")
        return True
    return False


def _authenticate(realm):
    """True when the request carries valid credentials for ``realm``; else it was answered."""
    src = _pv("$si")
    username = _pv("$au")
    if not username:
        KSR.auth.auth_challenge(realm, 0)
        return False
    try:
        ha1 = _ha1(realm, username)
    except ServerError as exc:
        KSR.err(f"pult: no credentials from the server: {exc}\n")
        KSR.sl.send_reply(503, "Server unavailable")
        return False
    same_user = "@" not in username  # HA1B logins carry the domain; check the user part below
    rc = KSR.auth.pv_auth_check(realm, ha1, 1, 1 if same_user else 0)
    if rc > 0 and not same_user:
        owner = _pv("$tU") if KSR.is_REGISTER() else _pv("$fU")
        if username.split("@", 1)[0] != owner:
            rc = -8
    if rc > 0:
        return True
    if rc in (-2, -3, -8) and _auth_failed(src):
        KSR.sl.send_reply(403, "Forbidden: too many failed attempts")
        return False
    KSR.auth.auth_challenge(realm, 0)
    return False


# --- plan execution -----------------------------------------------------------------------


def _from_trunk():
    """Does this request come from the carrier gateway (TRUNK is "host" or "host:port")?"""
    if not TRUNK:
        return False
    host, _, port = TRUNK.partition(":")
    return _pv("$si") == host and (not port or str(_pv("$sp")) == port)


def _branch_uri(branch):
    if branch["kind"] == "external" and TRUNK:
        number = branch["uri"].split(":", 1)[1].split("@", 1)[0]
        return f"sip:{number}@{TRUNK}"
    return branch["uri"]


def _add_branches(branches):
    """Put the registered contacts of ``branches`` into the destination set; their count."""
    added = 0
    for branch in branches:
        if branch["kind"] == "sip_user":
            if added == 0:
                ok = KSR.registrar.lookup_uri("location", branch["uri"]) > 0
            else:
                ok = KSR.registrar.lookup_to_dset("location", branch["uri"]) > 0
            added += 1 if ok else 0
        elif branch["kind"] == "external" and TRUNK:
            uri = _branch_uri(branch)
            if added == 0:
                KSR.pv.sets("$ru", uri)
            else:
                KSR.corex.append_branch_uri(uri)
            added += 1
    return added


def _schedule_appends(call_id, stage_idx, branches):
    tindex, tlabel = _pv("$T(id_index)"), _pv("$T(id_label)")
    start = _now()
    for branch in branches:
        due = start + branch["delay_seconds"]
        item = {
            "call_id": call_id,
            "stage": stage_idx,
            "tindex": tindex,
            "tlabel": tlabel,
            "uri": branch["uri"],
            "due": due,
        }
        name = f"{due:.3f}-{uuid.uuid4().hex[:8]}.json"
        tmp = os.path.join(ADDNEXT, "." + name)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(item, fh)
        os.rename(tmp, os.path.join(ADDNEXT, name))


def _run_appends():
    now = _now()
    try:
        names = sorted(n for n in os.listdir(ADDNEXT) if n[0] != ".")
    except OSError:
        return
    for n in names:
        if float(n.split("-", 1)[0]) > now:
            break
        path = os.path.join(ADDNEXT, n)
        try:
            with open(path, encoding="utf-8") as fh:
                item = json.load(fh)
            os.unlink(path)
        except (OSError, ValueError):
            continue
        cid = item["call_id"]
        if _get(cid + "|answered") or _get(cid + "|stage") != str(item["stage"]):
            continue
        rc = KSR.tsilo.ts_append_to_uri(
            int(item["tindex"]), int(item["tlabel"]), "location", item["uri"]
        )
        late = now - item["due"]
        KSR.info(f"pult: add-next {item['uri']} to {cid}: {rc} (late {late:.3f} s)\n")


def _clear_branches():
    # tm clears the destination set after each relay, so a new stage starts with none;
    # this only guards against leftovers from a stage whose lookups found nobody.
    if hasattr(KSR, "clear_branches"):
        KSR.clear_branches()


def _start_stages(call_id, plan, idx):
    """Relay the first stage from ``idx`` that has a reachable branch; False if none has."""
    stages = plan["stages"]
    while idx < len(stages):
        stage = stages[idx]
        now = [b for b in stage["branches"] if not b["delay_seconds"]]
        later = sorted(
            (b for b in stage["branches"] if b["delay_seconds"]), key=lambda b: b["delay_seconds"]
        )
        _clear_branches()
        added = _add_branches(now)
        while added == 0 and later:
            # Nobody to ring at once: the first delayed member starts the stage early.
            added = _add_branches([later.pop(0)])
        if added:
            _set(call_id + "|stage", idx)
            timeout_ms = max(1, int(stage["timeout_seconds"])) * 1000
            KSR.tm.t_set_fr(timeout_ms, timeout_ms)
            KSR.tm.t_set_max_lifetime(timeout_ms, 0)
            KSR.tm.t_on_failure("ksr_failure")
            KSR.tm.t_on_reply("ksr_onreply")
            KSR.tm.t_on_branch("ksr_branch")
            if KSR.tm.t_relay() > 0:
                if later:
                    _schedule_appends(call_id, idx, later)
                return True
        idx += 1
    return False


def _apply_final(call_id, final, kind):
    code, reason = int(final["sip_code"]), final["reason"] or "Unavailable"
    if final["action"] != "reject":
        # The media worker does not exist yet: voicemail/IVR/queue targets are refused.
        code, reason = MEDIA_REFUSAL
    KSR.tm.t_reply(code, reason)
    _event(call_id, "end", code=code, reason=reason, result=kind)


def _is_busy(stage):
    """Every branch of the stage said busy (none timed out, the best answer is 486/600)."""
    return (
        int(_pv("$T_reply_code") or 0) in BUSY_CODES
        and KSR.tm.t_any_timeout() < 0
        and _get(_pv("$ci") + "|nonbusy|" + str(stage)) is None
    )


def _identity(number, name, domain):
    """A P-Asserted-Identity value, or None when there is no presentable number."""
    number = "".join(
        ch for ch in str(number or "") if ch.isascii() and (ch.isalnum() or ch in "+*._-")
    )
    if not number or not domain:
        return None
    uri = f"<sip:{number}@{domain}>"
    # A quoted string: no control characters, quote and backslash escaped (RFC 3261 25.1).
    name = "".join(ch for ch in str(name or "") if ch >= " " and ch != "\x7f")
    if not name:
        return uri
    return '"{}" {}'.format(name.replace("\\", "\\\\").replace('"', '\\"'), uri)


def _plan_identity(call_id, plan, domain):
    """Remember who each leg presents: internal legs the caller (extension and name, or the
    trunk caller's number), legs to the carrier the caller ID the server chose."""
    inner = _identity(plan.get("presented_number"), plan.get("presented_name"), domain)
    outer = _identity(plan.get("caller_id"), "", domain)
    if inner or outer:
        _set(call_id + "|pai", json.dumps([inner, outer]))


def _add_identity(call_id):
    """In a branch route: the P-Asserted-Identity for this branch (see _plan_identity)."""
    raw = _get(call_id + "|pai")
    if not raw:
        return
    inner, outer = json.loads(raw)
    to_carrier = bool(TRUNK) and (_pv("$ru") or "").split("@", 1)[-1].split(";", 1)[0] == TRUNK
    value = outer if to_carrier else inner
    if value:
        KSR.hdr.append(f"P-Asserted-Identity: {value}\r\n")


def _plan_headers(call_id, plan):
    """Remember the per-branch headers of a plan that has any (most plans have none)."""
    stages = [
        [[b["uri"], b.get("headers") or {}] for b in stage["branches"]] for stage in plan["stages"]
    ]
    if any(h for stage in stages for _, h in stage):
        _set(call_id + "|hdrs", json.dumps(stages))


def _add_branch_headers(call_id):
    """In a branch route: add the headers the plan gives this branch's target.

    A branch here is a registered contact, not the plan's branch: a stage of one plan branch
    gives its headers to all its contacts; otherwise the contact's user part names the login."""
    raw = _get(call_id + "|hdrs")
    if not raw:
        return
    stages = json.loads(raw)
    idx = int(_get(call_id + "|stage") or 0)
    if idx >= len(stages):
        return
    branches = stages[idx]
    if len(branches) == 1:
        headers = branches[0][1]
    else:
        user = _pv("$rU") or ""
        headers = next(
            (h for uri, h in branches if uri.split(":", 1)[-1].split("@", 1)[0] == user), {}
        )
    for name, value in headers.items():
        KSR.hdr.append(f"{name}: {value}\r\n")


def _spy_info_allowed(call_id):
    """A listen-in mode change (SIP INFO from the supervisor's phone): relayed only when the
    server says the audited API set exactly this mode on the session of this call."""
    if _pv("$ft") != _get(call_id + "|ftag"):
        return False  # only the supervisor (who placed the call) changes the mode
    mode = (_pv("$rb") or "").strip()
    try:
        status, _ = _http("POST", "/api/sip/spy/mode", {"call_id": call_id, "mode": mode})
    except ServerError as exc:
        KSR.err(f"pult: cannot check a listen-in mode change: {exc}\n")
        return False
    return status == 200


def _branch_label(call_id):
    idx = _pv("$T_branch_idx")
    label = _get(f"{call_id}|br|{idx}")
    if label:
        return label
    user = _pv("$(ct{tobody.user})") if _pv("$ct") else None
    domain = json.loads(_get(call_id + "|parties") or "{}").get("domain", "")
    return f"sip:{user}@{domain}" if user else f"branch {idx}"


# --- calls the server wants ended ---------------------------------------------------------

CUT_REASONS = {"out_of_money": (402, "out of money")}


def _cut(call_id, why):
    """End an answered call with a BYE to both parties; report why (the CDR's cause)."""
    if _get(call_id + "|ended") is not None:
        return  # a party hung up meanwhile: its own end event stands
    ftag, ttag = _get(call_id + "|ftag"), _get(call_id + "|ttag")
    if not ftag or not ttag or KSR.dialog.dlg_get(call_id, ftag, ttag) < 0:
        KSR.notice(f"pult: no dialog {call_id} to cut ({why}): not here or over\n")
        return
    code, reason = CUT_REASONS.get(why, (200, why.replace("_", " ")))
    # Not dlg_bye("all"): in Kamailio 5.6 the first party's 200 to its BYE can delete the
    # dialog before the second BYE is built ("terminating non-confirmed dialogs not
    # supported"), leaving that party connected. So the callee's BYE is sent as a plain
    # request within the dialog first, then the dialog module ends the caller's side.
    callee_ok = _bye_callee(call_id, ftag, ttag, reason)
    caller_ok = KSR.dialog.dlg_bye("caller") > 0
    if not (callee_ok and caller_ok):
        KSR.err(f"pult: {call_id} only partly ended ({reason}): {callee_ok=} {caller_ok=}\n")
    _set(call_id + "|ended", 1)
    _event(call_id, "end", code=code, reason=reason)
    _acd_hung_up(call_id)
    KSR.notice(f"pult: call {call_id} ended by the edge: {reason}\n")


def _bye_callee(call_id, ftag, ttag, reason):
    """A BYE to the answering party, as the caller's side of the dialog would send it."""
    contact = _get(call_id + "|callee")
    uris = json.loads(_get(call_id + "|uris") or "null")
    if not contact or not uris:
        return False
    cseq = int(_get(call_id + "|cseq") or 0) + 1
    _set(call_id + "|cseq", cseq)
    headers = (
        f"From: <{uris[0]}>;tag={ftag}\r\n"
        f"To: <{uris[1]}>;tag={ttag}\r\n"
        f"Call-ID: {call_id}\r\n"
        f"CSeq: {cseq} BYE\r\n"
        f'Reason: SIP;cause=402;text="{reason}"\r\n'
        "Max-Forwards: 70\r\n"
    )
    return KSR.tm.t_uac_send("BYE", contact, "", "", headers, "") > 0


def _run_cuts():
    try:
        status, body = _http("GET", "/api/sip/cuts")
    except ServerError:
        return  # the server is away: it keeps the queue (and re-queues on its next tick)
    if status != 200 or not body:
        if status != 200:
            KSR.err(f"pult: cuts not available now ({status})\n")
        return
    for item in body.get("cuts", []):
        _cut(str(item["call_id"]), str(item.get("reason") or "out_of_money"))


# --- ACD queues -----------------------------------------------------------------------------
#
# A call the plan sends to an ACD group is queued at the server and its INVITE transaction is
# suspended (tm t_suspend) while the caller hears ringback (180). A 100 ms timer asks the
# server which held calls are offered now (POST /api/acd/edge/offers) and resumes each offered
# call (t_continue) into ksr_acd_ring, which rings that operator's phones for the group's
# answer time. No answer or a refusal is reported as a lapsed offer and the call is suspended
# again (t_suspend works in the failure-route context t_continue runs in, Kamailio >= 5.0);
# an answer and the hang-up are reported so the operator's state follows the call.
#
# Held calls are files in ACD_DIR (the timer lists them; nothing to ask when there are none);
# per-call state is in the "calls" htable: |acd (group), |acd_state (waiting, ringing,
# lapsing, withdrawn, talking), |acd_offer (the offer being rung), |acd_last (its id).

ACD_DIR = CFG.get("acd_dir") or os.path.join(os.path.dirname(SPOOL.rstrip("/")), "acd")
os.makedirs(ACD_DIR, exist_ok=True)
ACD_MAX_WAIT_MS = int(CFG.get("acd_max_wait_seconds", 3600)) * 1000
# Declined on the phone. 482: a UDP phone still holds the INVITE transaction of an earlier offer
# of the same call (about 5 s after its CANCEL) and takes the new branch for a merged request;
# counted as a refusal, so the call goes to someone else for the cool-down instead of retrying.
ACD_REJECT_CODES = (482, 486, 600, 603)


def _acd_http(method, path, body=None):
    """_http with the error answer's JSON (an enqueue refusal carries the cause to say)."""
    return _http(method, path, body, error_body=True)


def _acd_path(call_id):
    return "/api/acd/calls/" + urllib.parse.quote(call_id, safe="")


def _acd_file(call_id):
    return os.path.join(ACD_DIR, hashlib.sha1(call_id.encode()).hexdigest() + ".json")


def _acd_tell(call_id, what, body=None):
    """Report answered/ended to the server; a failure is logged (the server's own timers
    and the next poll reconcile what it missed)."""
    try:
        status, _ = _acd_http("POST", _acd_path(call_id) + "/" + what, body or {})
    except ServerError as exc:
        KSR.err(f"pult: ACD {what} for {call_id} not reported: {exc}\n")
        return
    if status != 200:
        KSR.notice(f"pult: ACD {what} for {call_id}: server answered {status}\n")


def _acd_forget(call_id):
    with contextlib.suppress(OSError):
        os.unlink(_acd_file(call_id))


def _acd_enqueue(call_id, plan, parties):
    """Queue the call at the server, ring back the caller and hold the INVITE."""
    body = {
        "domain": parties["domain"],
        "group_id": int(plan["queue_group_id"]),
        "call_id": call_id,
        "caller": parties["caller"],
        "require_online": True,
    }
    try:
        status, answer = _acd_http("POST", "/api/acd/calls", body)
    except ServerError as exc:
        KSR.err(f"pult: ACD enqueue failed: {exc}\n")
        status, answer = 0, None
    if status != 200:
        if status == 409 and answer and answer.get("message"):
            code, reason = 480, str(answer["message"])
        else:
            code, reason = 503, "Queue unavailable"
        KSR.tm.t_reply(code, reason)
        _event(call_id, "end", code=code, reason=reason, result="missed")
        return
    _set(call_id + "|acd", plan["queue_group_id"])
    _set(call_id + "|acd_cseq", (_pv("$cs") or "").split(" ")[0])
    KSR.tm.t_reply(180, "Ringing")
    _acd_wait(call_id)


def _acd_wait(call_id):
    """Suspend the transaction until the dispatcher offers the call (request or failure route)."""
    KSR.tm.t_set_fr(ACD_MAX_WAIT_MS, ACD_MAX_WAIT_MS)
    KSR.tm.t_on_failure("ksr_failure")
    if KSR.tmx.t_suspend() < 0:
        # Every wait and every offer takes a branch of the transaction (max_branches in
        # kamailio.cfg): a call offered that many times ends here.
        KSR.err(f"pult: cannot hold the queued call {call_id} any longer\n")
        _acd_forget(call_id)
        _set(call_id + "|acd_state", "ended")
        _acd_tell(call_id, "ended")
        KSR.tm.t_reply(480, "No operator answered")
        _event(call_id, "end", code=480, reason="no operator answered", result="missed")
        return
    item = {
        "call_id": call_id,
        "tindex": int(_pv("$T(id_index)")),
        "tlabel": int(_pv("$T(id_label)")),
    }
    path = _acd_file(call_id)
    with open(path + ".tmp", "w", encoding="utf-8") as fh:
        json.dump(item, fh)
    os.rename(path + ".tmp", path)
    _set(call_id + "|acd_state", "waiting")


def _acd_ring(call_id):
    """In the resumed transaction: ring the offered operator's phones for the answer time."""
    offer = json.loads(_get(call_id + "|acd_offer") or "null")
    if offer is None:
        _acd_wait(call_id)
        return
    _clear_branches()
    if KSR.registrar.lookup_uri("location", offer["uri"]) > 0:
        ring_ms = max(1, int(offer["ring_seconds"])) * 1000
        _set(call_id + "|stage", offer["offer_id"])
        KSR.tm.t_set_fr(ring_ms, ring_ms)
        KSR.tm.t_on_failure("ksr_failure")
        KSR.tm.t_on_reply("ksr_onreply")
        KSR.tm.t_on_branch("ksr_branch")
        if KSR.tm.t_relay() > 0:
            KSR.info(f"pult: ACD call {call_id} rings {offer['uri']}\n")
            return
    KSR.notice(f"pult: ACD offer of {call_id} to {offer['uri']}: no phone to ring\n")
    _acd_lapsed(call_id, offer, "unreachable")
    _acd_wait(call_id)


def _acd_lapsed(call_id, offer, reason):
    _set(call_id + "|acd_state", "lapsing")
    try:
        _acd_http(
            "POST",
            "/api/acd/edge/offers/{}/lapsed".format(offer["offer_id"]),
            {"call_id": call_id, "reason": reason},
        )
    except ServerError as exc:
        # The server lapses the offer itself a little later (its safety-net expiry).
        KSR.err(f"pult: ACD lapse of {call_id} not reported: {exc}\n")


def _acd_failure(call_id):
    """ksr_failure for a queued call: the caller gave up, the wait ran out, or an offer ended."""
    state = _get(call_id + "|acd_state")
    if state == "ended":
        return  # already reported (see _acd_cancel)
    if KSR.tm.t_is_canceled() > 0:
        _acd_forget(call_id)
        _set(call_id + "|acd_state", "ended")
        _acd_tell(call_id, "ended")
        _event(call_id, "end", code=487, reason="cancelled by the caller", result="missed")
        return
    if state == "waiting":
        _acd_forget(call_id)
        _set(call_id + "|acd_state", "ended")
        _acd_tell(call_id, "ended")
        KSR.tm.t_reply(480, "No operator answered in time")
        _event(call_id, "end", code=480, reason="no operator answered in time", result="missed")
        return
    offer = json.loads(_get(call_id + "|acd_offer") or "null")
    if state == "ringing" and offer is not None:
        code = int(_pv("$T_reply_code") or 0)
        reason = "rejected" if code in ACD_REJECT_CODES else "no_answer"
        _acd_lapsed(call_id, offer, reason)
    _acd_wait(call_id)


def _acd_cancel(call_id):
    """The caller gave up while waiting in the queue. tm answers 487 itself when the suspended
    transaction has no branch to cancel, without a failure route: so it is reported here."""
    if _get(call_id + "|acd") is None or _get(call_id + "|acd_state") != "waiting":
        return  # not queued here, or ringing an operator: the failure route reports it
    _acd_forget(call_id)
    _set(call_id + "|acd_state", "ended")
    _acd_tell(call_id, "ended")
    _event(call_id, "end", code=487, reason="cancelled by the caller", result="missed")


def _acd_answered(call_id):
    """A 200 from the operator's phone: the operator talks, the call leaves the poll."""
    if _get(call_id + "|acd") is None:
        return
    _set(call_id + "|acd_state", "talking")
    _acd_forget(call_id)
    offer = json.loads(_get(call_id + "|acd_offer") or "null")
    _acd_tell(call_id, "answered", {"user_id": offer["user_id"] if offer else None})


def _acd_hung_up(call_id):
    """The conversation ended: the operator's post-call work starts at the server."""
    if _get(call_id + "|acd") is not None:
        _set(call_id + "|acd_state", "ended")
        _acd_tell(call_id, "ended")


def _run_acd():
    try:
        names = [n for n in os.listdir(ACD_DIR) if n.endswith(".json")]
    except OSError:
        return
    if not names:
        return
    held = {}
    for n in names:
        try:
            with open(os.path.join(ACD_DIR, n), encoding="utf-8") as fh:
                item = json.load(fh)
        except (OSError, ValueError):
            continue
        held[item["call_id"]] = item
    if not held:
        return
    try:
        status, body = _acd_http("POST", "/api/acd/edge/offers", {"call_ids": sorted(held)})
    except ServerError:
        return  # the server is away: the callers keep hearing ringback
    if status != 200 or not body:
        KSR.err(f"pult: ACD offers not available now ({status})\n")
        return
    current = {o["call_id"]: o for o in body.get("offers", [])}
    for call_id, item in held.items():
        state = _get(call_id + "|acd_state")
        if state in (None, "ended", "talking"):
            _acd_forget(call_id)
            continue
        offer = current.get(call_id)
        last = _get(call_id + "|acd_last")
        if state == "waiting" and offer is not None and str(offer["offer_id"]) != last:
            _set(call_id + "|acd_last", offer["offer_id"])
            _set(call_id + "|acd_offer", json.dumps(offer))
            _set(call_id + "|acd_state", "ringing")
            rc = KSR.tmx.t_continue(item["tindex"], item["tlabel"], "ksr_acd_ring")
            if rc < 0:
                KSR.notice(f"pult: ACD call {call_id} is no longer held here ({rc})\n")
                _acd_forget(call_id)
        elif state == "ringing" and (offer is None or str(offer["offer_id"]) != last):
            # The offer ended at the server (declined on the desktop, the operator left):
            # stop that phone; the failure route suspends the call again without a lapse.
            _set(call_id + "|acd_state", "withdrawn")
            cseq = _get(call_id + "|acd_cseq") or "1"
            KSR.tmx.t_cancel_callid(call_id, cseq, 0)
        elif state == "waiting" and call_id in body.get("unknown", []):
            _set(call_id + "|acd_state", "gone")
            KSR.tmx.t_continue(item["tindex"], item["tlabel"], "ksr_acd_gone")


# --- the routes Kamailio calls ------------------------------------------------------------


class Edge:
    def child_init(self, rank):
        return 0

    def ksr_onsend_route(self, msg):
        return 1

    def ksr_reply_route(self, msg):
        return 1

    def ksr_request_route(self, msg):
        src = _pv("$si")
        if _banned(src):
            KSR.sl.send_reply(403, "Forbidden: too many failed attempts")
            return 1
        if KSR.pike.pike_check_req() < 0:
            KSR.notice(f"pult: flood from {src}\n")
            return 1
        if KSR.maxfwd.process_maxfwd(10) < 0:
            KSR.sl.send_reply(483, "Too Many Hops")
            return 1
        KSR.force_rport()
        if KSR.is_OPTIONS() and not _pv("$rU"):
            KSR.sl.send_reply(200, "OK")
            return 1
        if KSR.siputils.has_totag() > 0:
            self._within_dialog(msg)
            return 1
        if KSR.is_CANCEL():
            if KSR.tm.t_check_trans() > 0:
                _acd_cancel(_pv("$ci"))
                KSR.tm.t_relay()
            return 1
        if KSR.is_ACK():
            if KSR.tm.t_check_trans() > 0:
                KSR.tm.t_relay()
            return 1
        if KSR.tmx.t_precheck_trans() > 0:
            KSR.tm.t_check_trans()
            return 1
        if KSR.tm.t_check_trans() == 0:
            # A retransmission of a request whose transaction exists (an INVITE still waiting
            # for its ring plan): tm absorbed it; going on would make a second transaction.
            return 1
        KSR.hdr.remove("Route")
        if KSR.is_REGISTER():
            self._register()
        elif KSR.is_INVITE():
            self._invite()
        else:
            KSR.sl.send_reply(405, "Method Not Allowed")
        return 1

    def _register(self):
        realm = _pv("$td")
        if not _authenticate(realm):
            return
        if KSR.nathelper.nat_uac_test(19) > 0:
            KSR.nathelper.fix_nated_register()
        KSR.registrar.save("location", 0)

    def _within_dialog(self, msg):
        if KSR.rr.loose_route() > 0:
            KSR.nathelper.handle_ruri_alias()
            if KSR.is_INVITE():
                KSR.hdr.remove(SPY_HEADER)
            elif (
                _pv("$rm") in SPY_METHODS
                and SPY_CONTENT_TYPE in (_pv("$cT") or "").lower()
                and not _spy_info_allowed(_pv("$ci"))
            ):
                KSR.sl.send_reply(403, "Forbidden: listen-in mode not allowed")
                return
            if _pv("$ft") == _get(_pv("$ci") + "|ftag"):
                _set(_pv("$ci") + "|cseq", _pv("$cs"))  # the caller's side: for a cut's BYE
            if KSR.is_BYE():
                call_id = _pv("$ci")
                if _get(call_id + "|ended") is None:
                    _set(call_id + "|ended", 1)
                    who = "caller" if _pv("$ft") == _get(call_id + "|ftag") else "callee"
                    _event(call_id, "end", code=200, reason=f"{who} hung up")
                    _acd_hung_up(call_id)
            elif KSR.is_INVITE():
                KSR.rr.record_route()
            KSR.tm.t_relay()
            return
        if KSR.is_ACK():
            if KSR.tm.t_check_trans() > 0:
                KSR.tm.t_relay()
            return
        KSR.sl.send_reply(404, "Not here")

    def _invite(self):
        # The carrier's gateway is trusted by its address (it has no account to authenticate);
        # the server finds the company by the number dialled.
        source = "trunk" if _from_trunk() else "user"
        realm = _pv("$fd") if source == "user" else ""
        if source == "user":
            if not _authenticate(realm):
                return
            KSR.auth.consume_credentials()
        # Only the server sets it (a listen-in call is answered silently by the operator).
        KSR.hdr.remove(SPY_HEADER)
        # Who is calling is the server's word, not the phone's: a phone could claim any
        # extension and name. The carrier's own are replaced too (its From user is the number).
        for name in IDENTITY_HEADERS:
            KSR.hdr.remove(name)
        if KSR.nathelper.nat_uac_test(19) > 0:
            KSR.nathelper.add_contact_alias()
        if KSR.tm.t_newtran() < 0:
            KSR.sl.send_reply(500, "Server Internal Error")
            return
        # Phones stop retransmitting the INVITE while the server works out the ring plan.
        KSR.tm.t_reply(100, "Trying")
        call_id = _pv("$ci")
        caller = _pv("$fU")
        called = _pv("$rU") or ""
        parties = {"domain": realm, "caller": caller, "called": called, "source": source}
        _set(call_id + "|parties", json.dumps(parties))
        _set(call_id + "|ftag", _pv("$ft"))
        _set(call_id + "|uris", json.dumps([_pv("$fu"), _pv("$tu")]))
        _set(call_id + "|cseq", _pv("$cs"))
        KSR.htable.sht_seti("calls", call_id + "|seq", 0)
        try:
            status, plan = _http(
                "POST",
                "/api/sip/route",
                {
                    "domain": realm,
                    "caller_login": caller,
                    "called": called,
                    "call_id": call_id,
                    "source": source,
                },
            )
        except ServerError as exc:
            status, plan = 0, None
            KSR.err(f"pult: no ring plan: {exc}\n")
        if status != 200 or not plan:
            KSR.tm.t_reply(503, "Routing unavailable")
            _event(call_id, "refused", code=503, reason="routing unavailable")
            return
        if source == "trunk" and plan.get("domain"):
            # The server found the company by the number dialled: name it in this call's
            # records (who answered is "sip:<login>@<domain>").
            parties["domain"] = plan["domain"]
            _set(call_id + "|parties", json.dumps(parties))
        if not plan["accepted"]:
            refused = plan["refused"]
            code, reason = int(refused["sip_code"]), refused["reason"] or "Forbidden"
            KSR.tm.t_reply(code, reason)
            if parties["domain"]:
                # The server keeps its CDR a moment before storing it: this event makes the
                # record of the refusal as durable as any other call's.
                _event(call_id, "refused", code=code, reason=reason)
            return
        # Tracked as a dialog so the edge can end it later (see _run_cuts).
        KSR.dialog.dlg_manage()
        KSR.rr.record_route()
        # Kept for the failure route; the route trace is the CDR's, not the edge's business.
        _set(call_id + "|plan", json.dumps({k: v for k, v in plan.items() if k != "trace"}))
        _plan_headers(call_id, plan)
        _plan_identity(call_id, plan, parties["domain"])
        if plan.get("queue_group_id") and not plan["stages"]:
            _acd_enqueue(call_id, plan, parties)
        elif not _start_stages(call_id, plan, 0):
            _apply_final(call_id, plan["on_no_answer"], "missed")

    def ksr_branch(self, msg, *_):
        call_id = _pv("$ci")
        _add_branch_headers(call_id)
        _add_identity(call_id)
        parties = json.loads(_get(call_id + "|parties") or "{}")
        user = _pv("$rU")
        if user:
            _set(
                "{}|br|{}".format(call_id, _pv("$T_branch_idx")),
                "sip:{}@{}".format(user, parties.get("domain", "")),
            )
        return 1

    def ksr_onreply(self, msg, *_):
        if not KSR.is_INVITE() and _pv("$rm") != "INVITE":
            return 1
        code = int(_pv("$rs") or 0)
        call_id = _pv("$ci")
        if KSR.nathelper.nat_uac_test(1) > 0:
            KSR.nathelper.fix_nated_contact()
        if 180 <= code < 190:
            key = "{}|ring|{}|{}".format(call_id, _get(call_id + "|stage"), _pv("$T_branch_idx"))
            if _get(key) is None:
                _set(key, 1)
                _event(call_id, "ringing", branch=_branch_label(call_id), code=code)
        elif 200 <= code < 300:
            if _get(call_id + "|answered") is None:
                _set(call_id + "|answered", 1)
                _set(call_id + "|ttag", _pv("$tt") or "")
                _set(call_id + "|callee", _pv("$(ct{tobody.uri})") or "")
                _event(call_id, "answer", branch=_branch_label(call_id), code=code)
                _acd_answered(call_id)
        elif code >= 300 and code not in BUSY_CODES:
            _set("{}|nonbusy|{}".format(call_id, _get(call_id + "|stage")), 1)
        return 1

    def ksr_failure(self, msg, *_):
        call_id = _pv("$ci")
        if _get(call_id + "|acd") is not None:
            _acd_failure(call_id)
            return 1
        if KSR.tm.t_is_canceled() > 0:
            _event(call_id, "end", code=487, reason="cancelled by the caller", result="missed")
            return 1
        plan = json.loads(_get(call_id + "|plan") or "null")
        if plan is None:
            return 1
        idx = int(_get(call_id + "|stage") or 0)
        stage = plan["stages"][idx]
        if stage.get("busy_stops") and _is_busy(idx):
            _apply_final(call_id, plan["on_busy"], "busy")
            return 1
        if _start_stages(call_id, plan, idx + 1):
            return 1
        if int(_pv("$T_reply_code") or 0) in BUSY_CODES and _is_busy(idx):
            _apply_final(call_id, plan["on_busy"], "busy")
        else:
            _apply_final(call_id, plan["on_no_answer"], "missed")
        return 1

    def ksr_timer(self, msg, *_):
        _run_appends()
        return 1

    def ksr_spool(self, msg, *_):
        _flush_spool()
        return 1

    def ksr_cuts(self, msg, *_):
        _run_cuts()
        return 1

    def ksr_acd(self, msg, *_):
        _run_acd()
        return 1

    def ksr_acd_ring(self, msg, *_):
        _acd_ring(_pv("$ci"))
        return 1

    def ksr_acd_gone(self, msg, *_):
        call_id = _pv("$ci")
        _acd_forget(call_id)
        KSR.tm.t_reply(480, "The queue no longer holds the call")
        _event(call_id, "end", code=480, reason="the queue no longer holds the call")
        return 1


def mod_init():
    return Edge()
