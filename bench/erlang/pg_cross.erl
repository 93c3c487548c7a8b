%% Baseline for bench/cluster.bench.ts: cross-node propagation of Erlang/OTP's pg between two
%% real Erlang nodes on loopback. This node (A) starts node B with `peer` (a separate OS
%% process, connected by Erlang distribution over TCP on 127.0.0.1), runs a pg scope on both,
%% and puts a watcher on B that monitors the group (pg:monitor/2). Each round: join one pid on A,
%% wait until B's watcher sees the join (it answers with the time it saw it), then leave and wait
%% likewise. Times are os:system_time (the OS clock, shared by both processes on one machine).
%% Prints one JSON line: {"otp", "joinUs": [...], "leaveUs": [...]}, every round in order.
%%
%% Run by the bench (it compiles and loads this module, then calls main/2):
%%   ERL_EPMD_PORT=P erl -name pgbench_a@127.0.0.1 -setcookie C -start_epmd false \
%%     -kernel inet_dist_use_interface '{127,0,0,1}' -noshell -eval '...'
-module(pg_cross).
-export([main/2, watcher/2]).

-define(SCOPE, pg_cross_scope).
-define(GROUP, propagation).
-define(TIMEOUT_MS, 10000).

main(Binary, [RoundsArg, WarmupArg]) ->
    Rounds = list_to_integer(RoundsArg),
    Warmup = list_to_integer(WarmupArg),
    {ok, _} = pg:start_link(?SCOPE),
    Cookie = atom_to_list(erlang:get_cookie()),
    {ok, Peer, B} = peer:start_link(#{name => pgbench_b, host => "127.0.0.1", longnames => true,
                                       args => ["-setcookie", Cookie, "-start_epmd", "false",
                                                "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]}),
    {module, pg_cross} = erpc:call(B, code, load_binary, [pg_cross, "pg_cross.erl", Binary]),
    {ok, _} = erpc:call(B, pg, start, [?SCOPE]),
    Watcher = spawn(B, pg_cross, watcher, [self(), ?GROUP]),
    receive {watching, Watcher} -> ok after ?TIMEOUT_MS -> error(no_watcher) end,
    Pid = spawn_link(fun() -> receive stop -> ok end end),
    %% Warm-up (also waits until the two scopes have discovered each other: the first join
    %% reaches B only once B's scope knows A's).
    wait_discovered(Pid),
    %% Every round is reported (warm-up first); the bench picks the cold and the warm ones.
    Samples = [one_round(Pid) || _ <- lists:seq(1, Warmup + Rounds)],
    Watcher ! stop,
    peer:stop(Peer),
    Us = fun(Ns) -> io_lib:format("~.1f", [Ns / 1000]) end,
    io:format("{\"otp\":\"~s\",\"joinUs\":[~s],\"leaveUs\":[~s]}~n",
              [erlang:system_info(otp_release),
               lists:join(",", [Us(J) || {J, _} <- Samples]),
               lists:join(",", [Us(L) || {_, L} <- Samples])]),
    halt(0).

wait_discovered(Pid) ->
    ok = pg:join(?SCOPE, ?GROUP, Pid),
    receive {seen, join, _} -> ok after ?TIMEOUT_MS -> error(scopes_not_connected) end,
    ok = pg:leave(?SCOPE, ?GROUP, Pid),
    receive {seen, leave, _} -> ok after ?TIMEOUT_MS -> error(leave_not_seen) end.

one_round(Pid) ->
    T0 = os:system_time(nanosecond),
    ok = pg:join(?SCOPE, ?GROUP, Pid),
    T1 = receive {seen, join, TJ} -> TJ after ?TIMEOUT_MS -> error(join_not_seen) end,
    T2 = os:system_time(nanosecond),
    ok = pg:leave(?SCOPE, ?GROUP, Pid),
    T3 = receive {seen, leave, TL} -> TL after ?TIMEOUT_MS -> error(leave_not_seen) end,
    {T1 - T0, T3 - T2}.

%% On node B: monitor the group; on each event, check get_members agrees and tell the driver when.
watcher(Driver, Group) ->
    {Ref, _} = pg:monitor(?SCOPE, Group),
    Driver ! {watching, self()},
    watch_loop(Driver, Ref, Group).

watch_loop(Driver, Ref, Group) ->
    receive
        {Ref, join, Group, Pids} ->
            T = os:system_time(nanosecond),
            true = lists:all(fun(P) -> lists:member(P, pg:get_members(?SCOPE, Group)) end, Pids),
            Driver ! {seen, join, T},
            watch_loop(Driver, Ref, Group);
        {Ref, leave, Group, _Pids} ->
            T = os:system_time(nanosecond),
            Driver ! {seen, leave, T},
            watch_loop(Driver, Ref, Group);
        stop ->
            ok
    end.
