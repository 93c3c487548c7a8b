#!/usr/bin/env escript
%% -*- erlang -*-
%% Baseline for bench/pg.bench.ts: the same local operations with Erlang/OTP's pg, in one scope
%% on a single (non-distributed) node. Prints one JSON object on stdout.
%%   escript bench/erlang/pg_bench.erl [quick]
-mode(compile).

main(Args) ->
    Quick = lists:member("quick", Args),
    {ok, _} = pg:start_link(bench_scope),
    Scale = case Quick of true -> 1; false -> 5 end,
    JoinLeave = join_leave(20000 * Scale),
    Members = [{N, members(N, 20000 * Scale div max(1, N div 100))} || N <- [1, 100, 10000]],
    JoinList = join_many(list, 20 * Scale),
    JoinEach = join_many(each, 20 * Scale),
    io:format("{\"otp\":\"~s\",\"joinLeaveOpsPerSec\":~p,\"members\":{~s},"
              "\"join1000ListMs\":~p,\"join1000EachMs\":~p}~n",
              [erlang:system_info(otp_release), JoinLeave,
               string:join([io_lib:format("\"~p\":~p", [N, R]) || {N, R} <- Members], ","),
               JoinList, JoinEach]),
    halt(0).

spawn_idle() -> spawn(fun() -> receive stop -> ok end end).

now_ns() -> erlang:monotonic_time(nanosecond).

%% join + leave of one pid, ops (pairs) per second.
join_leave(Iterations) ->
    Pid = spawn_idle(),
    loop_join_leave(Pid, 1000),
    T0 = now_ns(),
    loop_join_leave(Pid, Iterations),
    Ns = now_ns() - T0,
    round(Iterations / (Ns / 1.0e9)).

loop_join_leave(_Pid, 0) -> ok;
loop_join_leave(Pid, N) ->
    ok = pg:join(bench_scope, jl, Pid),
    ok = pg:leave(bench_scope, jl, Pid),
    loop_join_leave(Pid, N - 1).

%% get_members on a group of N distinct pids: nanoseconds per call.
members(N, Calls) ->
    Group = {members, N},
    Pids = [spawn_idle() || _ <- lists:seq(1, N)],
    ok = pg:join(bench_scope, Group, Pids),
    N = length(pg:get_members(bench_scope, Group)),
    T0 = now_ns(),
    read_loop(Group, Calls),
    Ns = now_ns() - T0,
    Ns / Calls.

read_loop(_Group, 0) -> ok;
read_loop(Group, K) ->
    _ = pg:get_members(bench_scope, Group),
    read_loop(Group, K - 1).

%% Joining 1000 pids to one (fresh) group, as one list or one call each: ms per 1000.
join_many(Mode, Rounds) ->
    Pids = [spawn_idle() || _ <- lists:seq(1, 1000)],
    Times = [join_round(Mode, Pids, {many, Mode, R}) || R <- lists:seq(1, Rounds)],
    lists:sum(Times) / Rounds / 1.0e6.

join_round(Mode, Pids, Group) ->
    T0 = now_ns(),
    case Mode of
        list -> ok = pg:join(bench_scope, Group, Pids);
        each -> [ok = pg:join(bench_scope, Group, P) || P <- Pids]
    end,
    Ns = now_ns() - T0,
    1000 = length(pg:get_members(bench_scope, Group)),
    ok = pg:leave(bench_scope, Group, Pids),
    Ns.
