using CxMesh.Host;
using CxMesh.Platform.Hosting;

// cxmesh-server [run|migrate|dev-tokens|parked] [--services all|feedback,scoring,...]
return await CxMeshServer.RunAsync(args, Modules.All);
