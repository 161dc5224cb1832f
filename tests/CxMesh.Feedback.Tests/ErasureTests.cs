using CxMesh.Common.V1;
using CxMesh.Feedback.V1;
using CxMesh.Platform.Auth;
using CxMesh.Platform.Postgres;
using CxMesh.TestKit;
using Dapper;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CxMesh.Feedback.Tests;

public sealed class ErasureTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private readonly FeedbackService.FeedbackServiceClient _app = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.App);
    private readonly FeedbackService.FeedbackServiceClient _admin = fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Admin);

    private static SubmitFeedbackRequest WithContact(string customer) => new()
    {
        IdempotencyKey = $"erase-{Guid.NewGuid():N}",
        Channel = Channel.Complaint,
        CustomerId = customer,
        Ratings = { new Rating { QuestionId = "nps", Value = 2 } },
        Verbatim = "Hi, Margaret Thornbury here. The parcel was damaged, email me at m.thornbury@example.org",
        Contact = new ContactDetails { Name = "Margaret Thornbury", Email = "m.thornbury@example.org", Phone = "+44 20 7946 0123" },
    };

    private ServiceDatabase Db => fixture.Host.Services.GetRequiredKeyedService<ServiceDatabase>("feedback");

    [Fact]
    public async Task Contact_details_are_kept_encrypted_apart_redacted_from_the_text_and_shown_to_admins_only()
    {
        var item = (await _app.SubmitFeedbackAsync(WithContact("cust-enc-1"))).Item;
        Assert.Equal("Hi, [name] here. The parcel was damaged, email me at [email]", item.RedactedVerbatim);
        Assert.Null(item.Contact);

        var seenByAdmin = (await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item;
        Assert.Equal("m.thornbury@example.org", seenByAdmin.Contact.Email);
        Assert.Equal("Margaret Thornbury", seenByAdmin.Contact.Name);

        await using var connection = await Db.OpenConnectionAsync();
        var stored = await connection.QuerySingleAsync<(string KeyId, byte[] Ciphertext)>(
            "select key_id, ciphertext from contact_details where feedback_id = @id", new { id = Guid.Parse(item.Id) });
        Assert.Equal("test1", stored.KeyId);
        Assert.DoesNotContain("thornbury", System.Text.Encoding.UTF8.GetString(stored.Ciphertext), StringComparison.OrdinalIgnoreCase);
        var events = (await connection.QueryAsync<string>("select payload from outbox")).ToList();
        Assert.All(events, e => Assert.DoesNotContain("thornbury", e, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Feedback with an e-mail or phone and no customer id (a survey export's, a review's).</summary>
    private static SubmitFeedbackRequest Anonymous(string email, string phone = "") => new()
    {
        IdempotencyKey = $"pseudo-{Guid.NewGuid():N}",
        Channel = Channel.Survey,
        Verbatim = "Lovely beans.",
        Contact = new ContactDetails { Email = email, Phone = phone },
    };

    [Fact]
    public async Task Contact_details_without_a_customer_id_get_one_pseudonymous_id_per_person_and_are_erasable_by_it()
    {
        var first = (await _app.SubmitFeedbackAsync(Anonymous("Ann.Example@Example.org "))).Item;
        var again = (await _app.SubmitFeedbackAsync(Anonymous("ann.example@example.org"))).Item;
        var someoneElse = (await _app.SubmitFeedbackAsync(Anonymous("bob@example.org"))).Item;
        var byPhone = (await _app.SubmitFeedbackAsync(Anonymous("", "+44 20 7946 0999"))).Item;

        Assert.StartsWith("pid:", first.CustomerId, StringComparison.Ordinal);
        Assert.Equal(first.CustomerId, again.CustomerId);
        Assert.NotEqual(first.CustomerId, someoneElse.CustomerId);
        Assert.StartsWith("pid:", byPhone.CustomerId, StringComparison.Ordinal);
        Assert.DoesNotContain("example", first.CustomerId, StringComparison.OrdinalIgnoreCase);

        var erased = await _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = first.CustomerId });
        Assert.Equal(2, erased.ContactsErased);
        Assert.NotNull((await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = someoneElse.Id })).Item.Contact);

        // Contact details with nothing to derive an id from (a name only) still need a customer id.
        var nameOnly = Anonymous("");
        nameOnly.Contact.Name = "Ann";
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(nameOnly).ResponseAsync, "customer_id");
    }

    [Fact]
    public async Task A_person_known_only_by_their_e_mail_or_phone_is_erased_by_it()
    {
        var mine = (await _app.SubmitFeedbackAsync(Anonymous("cara.erase@example.org"))).Item;
        await _app.SubmitFeedbackAsync(Anonymous("Cara.Erase@Example.org"));
        var called = (await _app.SubmitFeedbackAsync(Anonymous("", "+44 20 7946 0777"))).Item;
        var other = (await _app.SubmitFeedbackAsync(Anonymous("dan.keep@example.org"))).Item;

        // As the person writes it: case and spaces do not matter, as when the id was derived.
        var erased = await _admin.EraseCustomerAsync(new EraseCustomerRequest { Email = " CARA.ERASE@example.org" });
        Assert.Equal(2, erased.ContactsErased);
        Assert.True((await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = mine.Id })).Item.Erased);
        // A phone by its digits, however it is punctuated.
        Assert.Equal(1, (await _admin.EraseCustomerAsync(new EraseCustomerRequest { Phone = "+44 (20) 7946-0777" })).ContactsErased);
        Assert.True((await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = called.Id })).Item.Erased);
        Assert.False((await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = other.Id })).Item.Erased);

        await RpcAssert.InvalidArgumentAsync(() => _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = "c-1", Email = "a@example.org" }).ResponseAsync, "email");
        await RpcAssert.InvalidArgumentAsync(() => _admin.EraseCustomerAsync(new EraseCustomerRequest { Email = "not an address" }).ResponseAsync, "email");
        await RpcAssert.InvalidArgumentAsync(() => _admin.EraseCustomerAsync(new EraseCustomerRequest { Phone = "12" }).ResponseAsync, "phone");
        await RpcAssert.InvalidArgumentAsync(() => _admin.EraseCustomerAsync(new EraseCustomerRequest()).ResponseAsync, "customer_id");
    }

    [Fact]
    public async Task Erasing_a_customer_removes_contacts_and_words_keeps_the_ratings_publishes_once_per_call_and_can_be_repeated()
    {
        var first = (await _app.SubmitFeedbackAsync(WithContact("cust-erase-1"))).Item;
        var second = (await _app.SubmitFeedbackAsync(WithContact("cust-erase-1"))).Item;
        var other = (await _app.SubmitFeedbackAsync(WithContact("cust-keep-1"))).Item;

        var erased = await _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = "cust-erase-1" });
        Assert.Equal(2, erased.VerbatimsErased);
        Assert.Equal(2, erased.ContactsErased);

        foreach (var id in new[] { first.Id, second.Id })
        {
            var after = (await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = id })).Item;
            Assert.True(after.Erased);
            Assert.Equal("", after.Verbatim);
            Assert.Null(after.Contact);
            Assert.NotEqual("", first.RedactedVerbatim);
            Assert.Equal("", after.RedactedVerbatim);
            Assert.Equal("", after.CustomerId);
            Assert.Equal(2, Assert.Single(after.Ratings).Value);
        }
        var kept = (await _admin.GetFeedbackAsync(new GetFeedbackRequest { Id = other.Id })).Item;
        Assert.False(kept.Erased);
        Assert.NotNull(kept.Contact);

        var again = await _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = "cust-erase-1" });
        Assert.Equal((0, 0), (again.VerbatimsErased, again.ContactsErased));
        var nobody = await _admin.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = "never-seen" });
        Assert.Equal((0, 0), (nobody.VerbatimsErased, nobody.ContactsErased));

        // Each call is one erasure with its own feedback.erased event, recorded under a hash of the id, never the id.
        Assert.NotEqual(erased.ErasureEventId, again.ErasureEventId);
        await using var connection = await Db.OpenConnectionAsync();
        Assert.Equal(3, await connection.ExecuteScalarAsync<long>(
            "select count(distinct event_id) from erasures where customer_hash in (encode(sha256('cust-erase-1'), 'hex'), encode(sha256('never-seen'), 'hex'))"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from erasures e where strpos(e::text, 'cust-erase-1') > 0"));
        Assert.Equal(0, await connection.ExecuteScalarAsync<long>("select count(*) from feedback_items where customer_id = 'cust-erase-1'"));
    }

    [Fact]
    public async Task Every_admin_read_of_raw_words_or_contact_details_is_recorded_and_listable()
    {
        var item = (await _app.SubmitFeedbackAsync(WithContact($"read-{Guid.NewGuid():N}"[..20]))).Item;
        var reader = fixture.Host.ClientWithToken<FeedbackService.FeedbackServiceClient>(fixture.Host.Token(Roles.Admin, subject: "curious-admin"));
        Assert.NotNull((await reader.GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id })).Item.Contact);
        // Analysts see redacted text only: nothing personal read, nothing recorded.
        await fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst).GetFeedbackAsync(new GetFeedbackRequest { Id = item.Id });

        var reads = (await _admin.ListPersonalDataReadsAsync(new ListPersonalDataReadsRequest { FeedbackId = item.Id })).Reads;
        var read = Assert.Single(reads);
        Assert.Equal(("curious-admin", item.Id), (read.Actor, read.FeedbackId));
        Assert.Equal(["verbatim", "contact"], read.Fields);
        await reader.ListFeedbackAsync(new ListFeedbackRequest { PageSize = 5 });
        Assert.True((await _admin.ListPersonalDataReadsAsync(new ListPersonalDataReadsRequest { Actor = "curious-admin" })).Reads.Count >= 2);
        await RpcAssert.InvalidArgumentAsync(() => _admin.ListPersonalDataReadsAsync(new ListPersonalDataReadsRequest { FeedbackId = "nope" }).ResponseAsync, "feedback_id");
        await RpcAssert.StatusAsync(() => fixture.Host.Client<FeedbackService.FeedbackServiceClient>(Roles.Analyst)
            .ListPersonalDataReadsAsync(new ListPersonalDataReadsRequest()).ResponseAsync, Grpc.Core.StatusCode.PermissionDenied);
    }

    [Fact]
    public async Task Erasure_is_for_admins_and_needs_a_customer_id()
    {
        await RpcAssert.StatusAsync(() => _app.EraseCustomerAsync(new EraseCustomerRequest { CustomerId = "x" }).ResponseAsync, StatusCode.PermissionDenied);
        await RpcAssert.InvalidArgumentAsync(() => _admin.EraseCustomerAsync(new EraseCustomerRequest()).ResponseAsync, "customer_id");
    }

    [Fact]
    public async Task Contact_details_without_a_customer_id_or_anything_to_derive_one_from_are_refused()
    {
        var request = WithContact("x");
        request.CustomerId = "";
        request.Contact = new ContactDetails { Name = "Margaret Thornbury", Address = "1 High Street" };
        await RpcAssert.InvalidArgumentAsync(() => _app.SubmitFeedbackAsync(request).ResponseAsync, "customer_id");
    }
}
