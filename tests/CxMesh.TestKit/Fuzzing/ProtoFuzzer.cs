using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using CxMesh.Platform.Auth;
using Google.Api;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;

namespace CxMesh.TestKit.Fuzzing;

/// <summary>One call the fuzzer makes: the RPC, what was done to the request, and the frames (or JSON request) sent.</summary>
public sealed record FuzzCase(MethodDescriptor Method, string What, IReadOnlyList<byte[]> Frames, HttpRequestMessageSpec? Http = null)
{
    public string Rpc => $"{Method.Service.Name}/{Method.Name}";
    public override string ToString() => $"{Rpc} [{What}]";
}

/// <summary>A JSON-over-HTTP request of a transcoded RPC.</summary>
public sealed record HttpRequestMessageSpec(string Verb, string Path, string? Body);

/// <summary>A reply the oracle does not accept, with what was sent and what came back.</summary>
public sealed record FuzzFinding(string Case, string Problem);

public sealed record FuzzReport(int Cases, TimeSpan Elapsed, IReadOnlyList<FuzzFinding> Findings, IReadOnlyDictionary<string, int> Replies)
{
    public double CasesPerSecond => Cases / Math.Max(Elapsed.TotalSeconds, 1e-9);
}

/// <summary>
/// A fuzzer generated from the compiled protos: for every RPC of every service, requests built from the input
/// message's descriptor (empty, plausible, and plausible with one field — at any depth up to two — set to each hostile
/// value of its type, repeated fields and maps with 10,000 elements), raw frames that are not a message at all, and for
/// transcoded RPCs the same over JSON with broken bodies and hostile path values. Seeded: the same seed makes the same
/// cases. The oracle: a deliberate status (INVALID_ARGUMENT naming a field or saying the request could not be parsed,
/// NOT_FOUND, FAILED_PRECONDITION, ALREADY_EXISTS, OUT_OF_RANGE, RESOURCE_EXHAUSTED, PERMISSION_DENIED, or OK), a
/// bounded message, within the deadline; JSON routes never 5xx; and the host answers its health check throughout.
/// </summary>
public sealed class ProtoFuzzer(CxMeshTestHost host, int seed)
{
    public const int MaxMessageLength = 2_000;

    private static readonly StatusCode[] Deliberate =
    [
        StatusCode.OK, StatusCode.InvalidArgument, StatusCode.NotFound, StatusCode.FailedPrecondition, StatusCode.AlreadyExists,
        StatusCode.OutOfRange, StatusCode.ResourceExhausted, StatusCode.PermissionDenied,
    ];

    private static readonly Marshaller<byte[]> Raw = new((b, c) => c.Complete(b), c => c.PayloadAsNewBuffer());

    /// <summary>Every service the contracts define (generated classes with a static ServiceDescriptor).</summary>
    public static IReadOnlyList<ServiceDescriptor> Services() =>
        typeof(Feedback.V1.FeedbackService).Assembly.GetTypes()
            .Select(t => t.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static))
            .Where(p => p?.PropertyType == typeof(ServiceDescriptor))
            .Select(p => (ServiceDescriptor)p!.GetValue(null)!)
            .Where(s => s.FullName.StartsWith("cxmesh.", StringComparison.Ordinal))
            .OrderBy(s => s.FullName, StringComparer.Ordinal)
            .ToList();

    /// <summary>The cases of every RPC: at most <paramref name="perMethod"/> each (the empty, plausible and raw-frame cases always), chosen by the seed.</summary>
    public IReadOnlyList<FuzzCase> Cases(int perMethod)
    {
        var random = new Random(seed);
        var all = new List<FuzzCase>();
        foreach (var method in Services().SelectMany(s => s.Methods))
        {
            var always = new List<FuzzCase>();
            var sampled = new List<FuzzCase>();
            var input = method.InputType;
            var plausible = Plausible(input, random, 0);
            always.Add(new(method, "empty", [[]]));
            always.Add(new(method, "plausible", [plausible.ToByteArray()]));
            foreach (var (what, frame) in RawFrames(input, plausible, random)) always.Add(new(method, what, [frame]));
            foreach (var (what, message) in Mutations(input, plausible, random)) sampled.Add(new(method, what, [message.ToByteArray()]));
            if (method.IsClientStreaming)
            {
                // A good item, then a raw bad one, then a good one: the bad one must not take the others with it.
                always.Add(new(method, "stream: good, unparsable, good", [plausible.ToByteArray(), [0x0A, 0x03, 0x61, 0xFF, 0x62], Plausible(input, random, 0).ToByteArray()]));
            }
            foreach (var http in HttpCases(method, plausible, random)) sampled.Add(http);
            all.AddRange(always);
            all.AddRange(sampled.Count <= perMethod ? sampled : sampled.OrderBy(_ => random.Next()).Take(perMethod));
        }
        return all;
    }

    /// <summary>Runs the cases <paramref name="parallel"/> at a time and checks each reply, and the host's health every 100 cases.</summary>
    public async Task<FuzzReport> RunAsync(IReadOnlyList<FuzzCase> cases, int parallel = 4, TimeSpan? deadline = null, CancellationToken ct = default)
    {
        var perCall = deadline ?? TimeSpan.FromSeconds(15);
        var declared = DeclaredRpcs.All().ToDictionary(r => r.ToString());
        var findings = new ConcurrentBag<FuzzFinding>();
        var replies = new ConcurrentDictionary<string, int>();
        var channels = new ConcurrentDictionary<string, (CallInvoker Invoker, HttpClient Http)>();
        (CallInvoker Invoker, HttpClient Http) CallerFor(MethodDescriptor method)
        {
            var roles = declared.TryGetValue($"{method.Service.FullName}/{method.Name}", out var rpc) ? rpc.Roles : new HashSet<string> { Roles.Admin };
            var role = roles.Contains(Roles.Admin) ? Roles.Admin : roles.First();
            return channels.GetOrAdd(role, r =>
            {
                var token = host.Token(r, r == Roles.Partner ? "fuzz-partner" : null, $"fuzz-{r}");
                var handler = host.Server.CreateHandler();
                var channel = GrpcChannel.ForAddress(host.Server.BaseAddress, new GrpcChannelOptions
                {
                    HttpHandler = handler,
                    MaxReceiveMessageSize = 4 * 1024 * 1024,
                    MaxSendMessageSize = null,
                });
                var http = host.Http();
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return (channel.Intercept(m =>
                {
                    m.Add("authorization", $"Bearer {token}");
                    return m;
                }), http);
            });
        }
        async Task HealthyAsync(string after)
        {
            var health = new Grpc.Health.V1.Health.HealthClient(GrpcChannel.ForAddress(host.Server.BaseAddress, new GrpcChannelOptions { HttpHandler = host.Server.CreateHandler() }));
            try
            {
                var reply = await health.CheckAsync(new Grpc.Health.V1.HealthCheckRequest { Service = "liveness" }, deadline: DateTime.UtcNow.AddSeconds(30), cancellationToken: ct);
                if (reply.Status != Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus.Serving) findings.Add(new(after, $"host not live: {reply.Status}"));
            }
            catch (RpcException e)
            {
                findings.Add(new(after, $"host not live: {e.Status}"));
            }
        }

        var watch = Stopwatch.StartNew();
        var done = 0;
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = parallel, CancellationToken = ct }, async (@case, token) =>
        {
            var (invoker, http) = CallerFor(@case.Method);
            var (reply, problem) = @case.Http is { } spec
                ? await CallHttpAsync(http, spec, perCall, token)
                : await CallGrpcAsync(invoker, @case, perCall, token);
            replies.AddOrUpdate(reply, 1, (_, n) => n + 1);
            if (problem is not null) findings.Add(new(@case.ToString(), problem));
            if (Interlocked.Increment(ref done) % 100 == 0) await HealthyAsync(@case.ToString());
        });
        await HealthyAsync("the last case");
        return new FuzzReport(cases.Count, watch.Elapsed, [.. findings.OrderBy(f => f.Case, StringComparer.Ordinal)], replies);
    }

    private static async Task<(string Reply, string? Problem)> CallGrpcAsync(CallInvoker invoker, FuzzCase @case, TimeSpan deadline, CancellationToken ct)
    {
        var m = @case.Method;
        var type = (m.IsClientStreaming, m.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            _ => MethodType.DuplexStreaming,
        };
        var method = new Method<byte[], byte[]>(type, m.Service.FullName, m.Name, Raw, Raw);
        var options = new CallOptions(deadline: DateTime.UtcNow + deadline, cancellationToken: ct);
        try
        {
            switch (type)
            {
                case MethodType.Unary:
                    await invoker.AsyncUnaryCall(method, null, options, @case.Frames[0]);
                    break;
                case MethodType.ServerStreaming:
                    using (var call = invoker.AsyncServerStreamingCall(method, null, options, @case.Frames[0]))
                    {
                        while (await call.ResponseStream.MoveNext(ct)) { }
                    }
                    break;
                case MethodType.ClientStreaming:
                    {
                        var call = invoker.AsyncClientStreamingCall(method, null, options);
                        var writing = WriteAllAsync(call.RequestStream, @case.Frames);
                        try
                        {
                            await call.ResponseAsync;
                        }
                        finally
                        {
                            // The server may answer without reading everything (a refused frame, a limit): ending the
                            // call releases a write that waits for it to read.
                            call.Dispose();
                            await writing;
                        }
                    }
                    break;
                default:
                    {
                        var call = invoker.AsyncDuplexStreamingCall(method, null, options);
                        var writing = WriteAllAsync(call.RequestStream, @case.Frames);
                        try
                        {
                            while (await call.ResponseStream.MoveNext(ct)) { }
                        }
                        finally
                        {
                            call.Dispose();
                            await writing;
                        }
                    }
                    break;
            }
            return ("OK", null);
        }
        catch (RpcException e)
        {
            return (e.StatusCode.ToString(), Judge(e));
        }
    }

    private static async Task WriteAllAsync(IClientStreamWriter<byte[]> writer, IReadOnlyList<byte[]> frames)
    {
        try
        {
            foreach (var frame in frames) await writer.WriteAsync(frame);
            await writer.CompleteAsync();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // The server answered before reading everything; its answer is what is judged.
        }
    }

    /// <summary>Why a failed call's status is not deliberate, or null when it is.</summary>
    private static string? Judge(RpcException e)
    {
        if (!Deliberate.Contains(e.StatusCode))
        {
            return e.StatusCode == StatusCode.DeadlineExceeded ? "no answer within the deadline (a hang)" : $"{e.StatusCode}: {Shorten(e.Status.Detail)}";
        }
        if (e.Status.Detail.Length > MaxMessageLength) return $"{e.StatusCode} with a {e.Status.Detail.Length}-character message";
        if (e.StatusCode != StatusCode.InvalidArgument) return null;
        var status = e.GetRpcStatus();
        var named = status?.GetDetail<BadRequest>()?.FieldViolations.Any(v => v.Field.Length > 0) == true
            || status?.GetDetail<ErrorInfo>()?.Reason is "MALFORMED_REQUEST" or "TOO_MANY_VIOLATIONS";
        return named ? null : $"INVALID_ARGUMENT naming no field: {Shorten(e.Status.Detail)}";
    }

    private static async Task<(string Reply, string? Problem)> CallHttpAsync(HttpClient http, HttpRequestMessageSpec spec, TimeSpan deadline, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(new HttpMethod(spec.Verb), spec.Path);
        if (spec.Body is not null) request.Content = new StringContent(spec.Body, Encoding.UTF8, "application/json");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(deadline);
        try
        {
            using var response = await http.SendAsync(request, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            var code = (int)response.StatusCode;
            return ($"HTTP {code}", code >= 500 ? $"HTTP {code}: {Shorten(body)}" : null);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return ("HTTP hang", "no answer within the deadline (a hang)");
        }
    }

    private static string Shorten(string text) => text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>A message with every field set to a value a real client might send (ids and keys look like ids and keys).</summary>
    public static IMessage Plausible(MessageDescriptor descriptor, Random random, int depth)
    {
        var message = descriptor.Parser.ParseFrom(ByteString.Empty);
        if (depth > 3) return message;
        var oneofsSet = new HashSet<string>();
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.RealContainingOneof is { } oneof && !oneofsSet.Add(oneof.Name)) continue;
            if (field.IsMap)
            {
                var entry = field.MessageType;
                var map = (IDictionary)field.Accessor.GetValue(message);
                map[PlausibleValue(entry.FindFieldByNumber(1), random, depth + 1)] = PlausibleValue(entry.FindFieldByNumber(2), random, depth + 1);
            }
            else if (field.IsRepeated)
            {
                ((IList)field.Accessor.GetValue(message)).Add(PlausibleValue(field, random, depth + 1));
            }
            else
            {
                field.Accessor.SetValue(message, PlausibleValue(field, random, depth + 1));
            }
        }
        return message;
    }

    private static object PlausibleValue(FieldDescriptor field, Random random, int depth)
    {
        var name = field.Name;
        return field.FieldType switch
        {
            FieldType.String => name switch
            {
                _ when name.Contains("email") => "fuzz@example.com",
                _ when name.Contains("phone") => "+8613800000000",
                _ when name.Contains("url") || name.Contains("endpoint") => "https://example.com/hook",
                _ when name.EndsWith("date") || name.Contains("_date") || name is "from" or "to" or "day" => DateTime.UtcNow.AddDays(-1).ToString("yyyy-MM-dd"),
                _ when name.Contains("language") || name == "locale" => "en",
                _ when name.Contains("time_zone") => "UTC",
                _ when name.Contains("question_id") => "nps",
                _ when name.Contains("cron") || name.Contains("schedule") => "0 6 * * 1",
                _ when name.Contains("page_token") => "",
                _ => $"fuzz-{random.Next(0x100000, 0xFFFFFF):x6}",
            },
            FieldType.Bytes => ByteString.CopyFromUtf8("fuzz"),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => 1,
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => 1L,
            FieldType.UInt32 or FieldType.Fixed32 => 1u,
            FieldType.UInt64 or FieldType.Fixed64 => 1ul,
            FieldType.Double => 1.0,
            FieldType.Float => 1.0f,
            FieldType.Bool => false,
            FieldType.Enum => System.Enum.ToObject(field.EnumType.ClrType, field.EnumType.Values.Count > 1 ? field.EnumType.Values[1].Number : 0),
            FieldType.Message when field.MessageType.FullName == Timestamp.Descriptor.FullName => Timestamp.FromDateTime(DateTime.UtcNow.AddHours(-1)),
            FieldType.Message when field.MessageType.FullName == Duration.Descriptor.FullName => Duration.FromTimeSpan(TimeSpan.FromHours(1)),
            FieldType.Message => Plausible(field.MessageType, random, depth),
            _ => throw new NotSupportedException(field.FieldType.ToString()),
        };
    }

    /// <summary>The plausible message with one field (top level or one level down) set to each hostile value, and every repeated field and map swollen.</summary>
    private static IEnumerable<(string What, IMessage Message)> Mutations(MessageDescriptor input, IMessage plausible, Random random)
    {
        foreach (var (path, field, parentOf) in Fields(input, plausible))
        {
            if (field.IsMap)
            {
                yield return ($"{path}: 10,000 entries", Mutate(plausible, parentOf, parent =>
                {
                    var map = (IDictionary)field.Accessor.GetValue(parent);
                    var value = PlausibleValue(field.MessageType.FindFieldByNumber(2), random, 3);
                    for (var i = 0; i < 10_000; i++)
                    {
                        map[field.MessageType.FindFieldByNumber(1).FieldType == FieldType.String ? $"k{i}" : (object)i] = value;
                    }
                }));
                var keyField = field.MessageType.FindFieldByNumber(1);
                var valueField = field.MessageType.FindFieldByNumber(2);
                foreach (var (name, value) in HostileValues.For(keyField, random).Where(v => v.Value is not null))
                {
                    yield return ($"{path} key: {name}", Mutate(plausible, parentOf, parent =>
                    {
                        var map = (IDictionary)field.Accessor.GetValue(parent);
                        map.Clear();
                        map[value] = PlausibleValue(valueField, random, 3);
                    }));
                }
                foreach (var (name, value) in HostileValues.For(valueField, random))
                {
                    yield return ($"{path} value: {name}", Mutate(plausible, parentOf, parent =>
                    {
                        var map = (IDictionary)field.Accessor.GetValue(parent);
                        var key = map.Keys.Cast<object>().First();
                        map[key] = value;
                    }));
                }
                continue;
            }
            if (field.IsRepeated)
            {
                yield return ($"{path}: 10,000 elements", Mutate(plausible, parentOf, parent =>
                {
                    var list = (IList)field.Accessor.GetValue(parent);
                    var element = list[0]!;
                    for (var i = 1; i < 10_000; i++) list.Add(element is IMessage m ? m.Descriptor.Parser.ParseFrom(m.ToByteString()) : element);
                }));
                yield return ($"{path}: none", Mutate(plausible, parentOf, parent => ((IList)field.Accessor.GetValue(parent)).Clear()));
            }
            foreach (var (name, value) in HostileValues.For(field, random))
            {
                yield return ($"{path}: {name}", Mutate(plausible, parentOf, parent =>
                {
                    if (field.IsRepeated)
                    {
                        var list = (IList)field.Accessor.GetValue(parent);
                        list[0] = value;
                    }
                    else
                    {
                        field.Accessor.SetValue(parent, value);
                    }
                }));
            }
            if (field.FieldType == FieldType.Message && !field.IsRepeated)
            {
                yield return ($"{path}: absent", Mutate(plausible, parentOf, parent => field.Accessor.Clear(parent)));
            }
        }
    }

    /// <summary>Fields at depth 0 and 1 (inside a singular or the first repeated element), with how to reach their parent in a copy.</summary>
    private static IEnumerable<(string Path, FieldDescriptor Field, Func<IMessage, IMessage> ParentOf)> Fields(MessageDescriptor input, IMessage plausible)
    {
        foreach (var field in input.Fields.InFieldNumberOrder())
        {
            yield return (field.Name, field, m => m);
            if (field.FieldType != FieldType.Message || field.IsMap || IsWellKnown(field.MessageType)) continue;
            Func<IMessage, IMessage> child = field.IsRepeated
                ? m => (IMessage)((IList)field.Accessor.GetValue(m))[0]!
                : m => (IMessage)field.Accessor.GetValue(m);
            if (field.IsRepeated ? ((IList)field.Accessor.GetValue(plausible)).Count == 0 : field.Accessor.GetValue(plausible) is null) continue;
            foreach (var inner in field.MessageType.Fields.InFieldNumberOrder())
            {
                yield return ($"{field.Name}{(field.IsRepeated ? "[0]" : "")}.{inner.Name}", inner, child);
            }
        }
    }

    private static bool IsWellKnown(MessageDescriptor d) => d.File.Package == "google.protobuf";

    private static IMessage Mutate(IMessage plausible, Func<IMessage, IMessage> parentOf, Action<IMessage> change)
    {
        var copy = plausible.Descriptor.Parser.ParseFrom(plausible.ToByteString());
        change(parentOf(copy));
        return copy;
    }

    /// <summary>Frames that are not a message of the type: the parser's failure modes, junk, and invalid UTF-8 where a string is expected.</summary>
    private static IEnumerable<(string What, byte[] Frame)> RawFrames(MessageDescriptor input, IMessage plausible, Random random)
    {
        yield return ("raw: junk", HostileValues.RandomBytes(random, 32));
        yield return ("raw: field number 0", [0x00, 0x01]);
        yield return ("raw: over-long varint", [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        yield return ("raw: truncated", [.. plausible.ToByteArray().Take(Math.Max(1, plausible.CalculateSize() - 1)), 0x0A, 0x7F]);
        yield return ("raw: nested groups", [.. Enumerable.Repeat((byte)0x7B, 200)]);
        var text = input.Fields.InFieldNumberOrder().FirstOrDefault(f => f.FieldType == FieldType.String && !f.IsRepeated && !f.IsMap);
        if (text is not null)
        {
            // The last occurrence of a field wins, so appending replaces the plausible value with invalid UTF-8.
            yield return ($"raw: {text.Name} invalid UTF-8", [.. plausible.ToByteArray(), .. Tag(text.FieldNumber, 2), 0x04, 0x61, 0xC3, 0x28, 0xFF]);
            yield return ($"raw: {text.Name} lone surrogate", [.. plausible.ToByteArray(), .. Tag(text.FieldNumber, 2), 0x03, 0xED, 0xA0, 0x80]);
        }
    }

    private static byte[] Tag(int field, int wireType)
    {
        var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(field, (WireFormat.WireType)wireType);
        output.Flush();
        return stream.ToArray();
    }

    /// <summary>For an RPC with a google.api.http rule: hostile path values and broken or hostile JSON bodies.</summary>
    private static IEnumerable<FuzzCase> HttpCases(MethodDescriptor method, IMessage plausible, Random random)
    {
        if (method.GetOptions()?.GetExtension(AnnotationsExtensions.Http) is not { } rule) return [];
        var (verb, template) = rule.PatternCase switch
        {
            HttpRule.PatternOneofCase.Get => ("GET", rule.Get),
            HttpRule.PatternOneofCase.Post => ("POST", rule.Post),
            HttpRule.PatternOneofCase.Put => ("PUT", rule.Put),
            HttpRule.PatternOneofCase.Delete => ("DELETE", rule.Delete),
            HttpRule.PatternOneofCase.Patch => ("PATCH", rule.Patch),
            _ => ("", ""),
        };
        if (verb.Length == 0) return [];
        string PathWith(string value) => System.Text.RegularExpressions.Regex.Replace(template, @"\{[^}]+\}", _ => Uri.EscapeDataString(value));
        var plausiblePath = PathWith($"fuzz-{random.Next(0x100000, 0xFFFFFF):x6}");
        var cases = new List<FuzzCase>();
        // (A NUL in a path never reaches routing: Kestrel refuses the request line, and the test server's client will not send it.)
        foreach (var (name, value) in HostileValues.Strings.Where(s => s.Value.Length is > 0 and < 1_000 && !s.Value.Contains('\0')))
        {
            cases.Add(new(method, $"http path: {name}", [], new(verb, PathWith(value), rule.Body.Length > 0 ? "{}" : null)));
        }
        if (rule.Body.Length > 0)
        {
            var json = JsonFormatter.Default.Format(plausible);
            foreach (var (name, body) in new (string, string)[]
            {
                ("http body: none", ""),
                ("http body: unclosed", "{"),
                ("http body: array", "[]"),
                ("http body: null", "null"),
                ("http body: unknown field", "{\"noSuchField\":1}"),
                ("http body: 10,000 nested arrays", new string('[', 10_000) + new string(']', 10_000)),
                ("http body: NUL escape", json.Length > 2 ? json.Insert(json.IndexOf(':') + 1, " \"\\u0000\", \"x\":") : "{}"),
                ("http body: huge number", "{\"pageSize\": 1e400}"),
                ("http body: wrong types", "{\"pageSize\": \"many\", \"ratings\": {\"a\": 1}}"),
                ("http body: plausible", json),
            })
            {
                cases.Add(new(method, name, [], new(verb, plausiblePath, body)));
            }
        }
        else
        {
            cases.Add(new(method, "http query: hostile", [], new(verb, plausiblePath + "?pageSize=-1&pageToken=%00%FF&window.days=99999999999", null)));
        }
        return cases;
    }
}
