namespace CxMesh.Web.Resources;

/// <summary>The console's strings: <c>Strings.resx</c> (English) and <c>Strings.zh-CN.resx</c> (simplified Chinese).</summary>
public sealed class Strings;
