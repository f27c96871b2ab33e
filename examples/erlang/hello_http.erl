%% examples/erlang: a small HTTP/1.1 service written with gen_tcp.
%%
%% GET /        -> a greeting naming the Erlang/OTP release and the node
%% GET /healthz -> "ok"
%% anything else -> 404
%%
%% One process per connection, keep-alive honoured, as Erlang services are
%% usually written.  Started by `erl -s hello_http start [Port]`.
-module(hello_http).
-export([start/0, start/1, accept/1, serve/1]).

-define(DEFAULT_PORT, 8080).

start() -> start([integer_to_list(?DEFAULT_PORT)]).

start([PortArg]) ->
    Port = list_to_integer(atom_or_string(PortArg)),
    {ok, Listen} = gen_tcp:listen(Port, [binary, {packet, http_bin}, {active, false},
                                         {reuseaddr, true}, {backlog, 128}]),
    io:format("hello_http: listening on port ~b (Erlang/OTP ~s)~n",
              [Port, erlang:system_info(otp_release)]),
    Pid = spawn(?MODULE, accept, [Listen]),
    ok = gen_tcp:controlling_process(Listen, Pid),
    ok.

atom_or_string(A) when is_atom(A) -> atom_to_list(A);
atom_or_string(S) -> S.

accept(Listen) ->
    case gen_tcp:accept(Listen) of
        {ok, Sock} ->
            Pid = spawn(?MODULE, serve, [Sock]),
            ok = gen_tcp:controlling_process(Sock, Pid),
            accept(Listen);
        {error, closed} ->
            ok
    end.

%% Reads one request (request line and headers), answers, and loops while the
%% client keeps the connection alive.
serve(Sock) ->
    case read_request(Sock, undefined, true) of
        {ok, Path, KeepAlive} ->
            {Status, Body} = route(Path),
            Conn = case KeepAlive of true -> <<"keep-alive">>; false -> <<"close">> end,
            Reply = [<<"HTTP/1.1 ">>, Status, <<"\r\nContent-Type: text/plain\r\n">>,
                     <<"Content-Length: ">>, integer_to_binary(iolist_size(Body)),
                     <<"\r\nConnection: ">>, Conn, <<"\r\n\r\n">>, Body],
            case gen_tcp:send(Sock, Reply) of
                ok when KeepAlive -> serve(Sock);
                _ -> gen_tcp:close(Sock)
            end;
        closed ->
            gen_tcp:close(Sock)
    end.

read_request(Sock, Path, KeepAlive) ->
    case gen_tcp:recv(Sock, 0, 30000) of
        {ok, {http_request, _Method, {abs_path, P}, {1, 0}}} ->
            read_request(Sock, P, false);
        {ok, {http_request, _Method, {abs_path, P}, _Version}} ->
            read_request(Sock, P, KeepAlive);
        {ok, {http_header, _, 'Connection', _, V}} ->
            read_request(Sock, Path, keep_alive(string:lowercase(V), KeepAlive));
        {ok, {http_header, _, _, _, _}} ->
            read_request(Sock, Path, KeepAlive);
        {ok, http_eoh} when Path =/= undefined ->
            {ok, Path, KeepAlive};
        _ ->
            closed
    end.

keep_alive(<<"close">>, _) -> false;
keep_alive(<<"keep-alive">>, _) -> true;
keep_alive(_, Default) -> Default.

route(<<"/healthz">>) ->
    {<<"200 OK">>, <<"ok\n">>};
route(<<"/">>) ->
    {<<"200 OK">>, io_lib:format("Hello from Erlang/OTP ~s on ~s~n",
                                 [erlang:system_info(otp_release), node()])};
route(_) ->
    {<<"404 Not Found">>, <<"not found\n">>}.
