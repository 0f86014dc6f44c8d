using System.Data.Common;
using System.Net;

namespace SecretsCache.Tests.Rotation;

public sealed class AuthenticationFailurePredicatesTests
{
    [Theory]
    [InlineData("28P01", true)]
    [InlineData("28000", true)]
    [InlineData("42P01", false)] // undefined_table
    [InlineData("08006", false)] // connection_failure
    [InlineData(null, false)]
    public void PostgreSql_matches_the_authentication_sqlstates(string? sqlState, bool expected)
    {
        Assert.Equal(expected, AuthenticationFailurePredicates.PostgreSql(new FakeDbException("x", sqlState)));
        Assert.Equal(expected, AuthenticationFailurePredicates.Any(new FakeDbException("x", sqlState)));
    }

    [Fact]
    public void MySql_matches_error_1045_from_the_data_both_drivers_set()
    {
        var denied = new FakeDbException("Access denied for user 'app'@'10.0.0.1' (using password: YES)");
        denied.Data["Server Error Code"] = 1045;
        var other = new FakeDbException("Table 'x' doesn't exist");
        other.Data["Server Error Code"] = 1146;

        Assert.True(AuthenticationFailurePredicates.MySql(denied));
        Assert.False(AuthenticationFailurePredicates.MySql(other));
        Assert.True(AuthenticationFailurePredicates.MySql(new FakeDbException("denied", errorCode: 1045)));
        Assert.True(AuthenticationFailurePredicates.MySql(new MySqlException("Access denied for user 'app'@'%'")));
        Assert.False(AuthenticationFailurePredicates.MySql(new MySqlException("Unknown database 'x'")));
    }

    [Fact]
    public void SqlServer_matches_login_failed_18456_from_the_help_link_data()
    {
        var loginFailed = new FakeDbException("Login failed for user 'app'.");
        loginFailed.Data["HelpLink.EvtID"] = "18456";
        var deadlock = new FakeDbException("Transaction was deadlocked");
        deadlock.Data["HelpLink.EvtID"] = "1205";

        Assert.True(AuthenticationFailurePredicates.SqlServer(loginFailed));
        Assert.False(AuthenticationFailurePredicates.SqlServer(deadlock));
        Assert.True(AuthenticationFailurePredicates.SqlServer(new SqlException("Login failed for user 'app'.")));
        Assert.False(AuthenticationFailurePredicates.SqlServer(new FakeDbException("Login failed for user 'app'."))); // Not a SqlException, no number.
    }

    [Theory]
    [InlineData("ORA-01017: invalid username/password; logon denied", true)]
    [InlineData("ORA-17079: invalid user credentials", true)]
    [InlineData("ORA-00942: table or view does not exist", false)]
    public void Oracle_matches_by_error_code_prefix(string message, bool expected) =>
        Assert.Equal(expected, AuthenticationFailurePredicates.Oracle(new FakeDbException(message)));

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized, true)]
    [InlineData(HttpStatusCode.Forbidden, false)]
    [InlineData(HttpStatusCode.InternalServerError, false)]
    public void HttpUnauthorized_matches_status_401(HttpStatusCode status, bool expected) =>
        Assert.Equal(expected, AuthenticationFailurePredicates.HttpUnauthorized(new HttpRequestException("x", null, status)));

    [Fact]
    public void Predicates_look_through_inner_and_aggregate_exceptions()
    {
        var nested = new InvalidOperationException("outer", new AggregateException(new TimeoutException(), new FakeDbException("x", "28P01")));

        Assert.True(AuthenticationFailurePredicates.PostgreSql(nested));
        Assert.True(AuthenticationFailurePredicates.Any(nested));
        Assert.False(AuthenticationFailurePredicates.Any(new InvalidOperationException("outer", new TimeoutException())));
    }

    [Fact]
    public void Unrelated_exceptions_are_not_authentication_failures()
    {
        Assert.False(AuthenticationFailurePredicates.Any(new TimeoutException()));
        Assert.False(AuthenticationFailurePredicates.Any(new OperationCanceledException()));
        Assert.False(AuthenticationFailurePredicates.Any(new SecretNotFoundException("gone")));
    }

    [Fact]
    public void Own_predicates_combine_with_the_ready_made_ones()
    {
        var custom = AuthenticationFailurePredicates.AnyOf(
            AuthenticationFailurePredicates.PostgreSql,
            AuthenticationFailurePredicates.SqlState("XX999"),
            ex => AuthenticationFailurePredicates.InChain(ex, e => e is TokenExpiredException));

        Assert.True(custom(new FakeDbException("x", "28P01")));
        Assert.True(custom(new FakeDbException("x", "XX999")));
        Assert.True(custom(new InvalidOperationException("wrapped", new TokenExpiredException())));
        Assert.False(custom(new FakeDbException("x", "42P01")));
    }

    private sealed class TokenExpiredException : Exception;

    internal sealed class FakeDbException(string message, string? sqlState = null, int? errorCode = null) : DbException(message)
    {
        public override string? SqlState => sqlState;

        public override int ErrorCode => errorCode ?? base.ErrorCode;
    }

    /// <summary>Named like the driver's type, which the last-resort message check requires.</summary>
    private sealed class MySqlException(string message) : DbException(message);

    private sealed class SqlException(string message) : DbException(message);
}
