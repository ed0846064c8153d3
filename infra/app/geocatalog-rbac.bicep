// The GeoCatalog data-plane role for the Function App's identity, on an existing GeoCatalog
// (Microsoft Planetary Computer Pro). Deployed into the GeoCatalog's own resource group, which may
// be in another subscription; the deploying principal needs Owner, User Access Administrator or
// Role Based Access Control Administrator there.

@description('Name of the existing GeoCatalog (Microsoft.Orbital/geoCatalogs) in this resource group.')
param geoCatalogName string

@description('Principal (object) id of the Function App\'s user-assigned identity.')
param principalId string

@description('Role definition id (GUID) to grant on the GeoCatalog.')
param roleDefinitionId string

resource geoCatalog 'Microsoft.Orbital/geoCatalogs@2026-04-15' existing = {
  name: geoCatalogName
}

resource geoCatalogRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(geoCatalog.id, principalId, roleDefinitionId)
  scope: geoCatalog
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleDefinitionId)
  }
}

output roleAssignmentId string = geoCatalogRole.id
