using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CxMesh.Platform.Hosting;

public static class ValidatedOptions
{
    /// <summary>
    /// How every service registers its options: bound to <paramref name="section"/>, checked by their data annotations
    /// (and <see cref="System.ComponentModel.DataAnnotations.IValidatableObject"/>) when the process starts, so a bad
    /// value stops start-up with a message naming its key instead of failing later in a worker.
    /// </summary>
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section) where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();
}
