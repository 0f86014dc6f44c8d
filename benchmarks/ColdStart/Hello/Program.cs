// The floor of the cold-start benchmark: a process that starts and asks the Runtime API for its first event (the end of
// init as Lambda measures it), nothing else.
using var http = new System.Net.Http.HttpClient();
var next = new Uri($"http://{Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API")}/2018-06-01/runtime/invocation/next");
try
{
    using var response = await http.GetAsync(next);
    return (int)response.StatusCode == 200 ? 0 : 1;
}
catch (HttpRequestException)
{
    return 1;
}
