%% Baseline for bench/internode.bench.ts: ping-pong between two real Erlang nodes on loopback
%% over Erlang distribution (TCP on 127.0.0.1), the measure the internode bench takes for troupe.
%% This node (A) starts node B with `peer` (a separate OS process), spawns an echo process on B,
%% and for each round sends {self(), Payload} and waits for Payload back, one at a time. Payloads
%% are binaries of the sizes asked for (refc binaries above 64 bytes, as in any real message).
%% Prints one JSON line per size: {"otp", "bytes", "p50Us", "p99Us", "meanUs", "rounds"}.
%%
%% Run by the bench (it compiles and loads this module, then calls main/2):
%%   ERL_EPMD_PORT=P erl -name pingpong_a@127.0.0.1 -setcookie C -start_epmd false \
%%     -kernel inet_dist_use_interface '{127,0,0,1}' -noshell -eval '...'
-module(dist_pingpong).
-export([main/2, echo/0]).

-define(TIMEOUT_MS, 5000).

main(Binary, [RoundsArg, WarmupArg | Sizes]) ->
    Rounds = list_to_integer(RoundsArg),
    Warmup = list_to_integer(WarmupArg),
    Cookie = atom_to_list(erlang:get_cookie()),
    {ok, Peer, B} = peer:start_link(#{name => pingpong_b, host => "127.0.0.1", longnames => true,
                                       args => ["-setcookie", Cookie, "-start_epmd", "false",
                                                "-kernel", "inet_dist_use_interface", "{127,0,0,1}"]}),
    {module, dist_pingpong} = erpc:call(B, code, load_binary, [dist_pingpong, "dist_pingpong.erl", Binary]),
    Echo = spawn(B, dist_pingpong, echo, []),
    lists:foreach(fun(SizeArg) ->
        Size = list_to_integer(SizeArg),
        Payload = crypto:strong_rand_bytes(Size),
        _ = [round_trip(Echo, Payload) || _ <- lists:seq(1, Warmup)],
        Samples = lists:sort([round_trip(Echo, Payload) || _ <- lists:seq(1, Rounds)]),
        At = fun(Q) -> lists:nth(min(Rounds, 1 + trunc(Q * Rounds)), Samples) end,
        Mean = lists:sum(Samples) / Rounds,
        Us = fun(Ns) -> io_lib:format("~.1f", [Ns / 1000]) end,
        io:format("{\"otp\":\"~s\",\"bytes\":~b,\"p50Us\":~s,\"p99Us\":~s,\"meanUs\":~s,\"rounds\":~b}~n",
                  [erlang:system_info(otp_release), Size, Us(At(0.5)), Us(At(0.99)), Us(Mean), Rounds])
    end, Sizes),
    Echo ! stop,
    peer:stop(Peer),
    halt(0).

round_trip(Echo, Payload) ->
    T0 = erlang:monotonic_time(nanosecond),
    Echo ! {self(), Payload},
    receive Payload -> ok after ?TIMEOUT_MS -> error(lost_reply) end,
    erlang:monotonic_time(nanosecond) - T0.

echo() ->
    receive
        {From, Payload} -> From ! Payload, echo();
        stop -> ok
    end.
